//! The private runtime of rpc-sync: named threads, sharing, shutdown on the last drop,
//! panics as errors, and the pinned behaviour of blocking calls made inside a runtime.

use rpc_sync::{RpcError, RuntimeHandle, StatusCode};
use rpc_testkit::{LIMIT, bounded};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The runtime is process-wide: tests that check its lifetime must not overlap.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends on its channel when dropped.
struct DropSignal(mpsc::Sender<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("<unnamed>").to_owned()
}

fn assert_in_runtime_error(err: &RpcError) {
    assert_eq!(err.code(), StatusCode::FailedPrecondition, "{err}");
    assert!(
        err.details()
            .starts_with("blocking rpc-sync call made from inside an async runtime; use rpc-aio"),
        "{err}"
    );
}

#[test]
fn runtime_threads_are_named() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let worker = rt.block_on(async { thread_name() }).unwrap();
    assert!(worker.starts_with("rpc-sync-runtime-"), "{worker}");
    let blocking = bounded({
        let rt = rt.clone();
        move || futures::executor::block_on(rt.spawn_blocking(thread_name)).unwrap()
    });
    assert!(blocking.starts_with("rpc-sync-runtime-"), "{blocking}");
    assert_eq!(rt.block_on(async { 40 + 2 }).unwrap(), 42);
}

#[test]
fn handles_share_one_runtime() {
    let _serial = serial();
    let a = RuntimeHandle::shared().unwrap();
    let b = RuntimeHandle::shared().unwrap();
    let c = bounded(|| RuntimeHandle::shared().unwrap());
    assert!(a.ptr_eq(&b) && a.ptr_eq(&c) && a.ptr_eq(&a.clone()));
    assert!(format!("{a:?}").starts_with("RuntimeHandle"));
    // A task spawned through one handle is visible through another.
    let (tx, rx) = tokio::sync::oneshot::channel();
    a.spawn(async move { tx.send(7).unwrap() });
    assert_eq!(b.block_on(rx).unwrap(), Ok(7));
}

#[test]
fn dropping_the_last_handle_shuts_the_runtime_down() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let clone = rt.clone();
    rt.spawn(async move {
        let _signal = DropSignal(dropped_tx);
        let _ = started_tx.send(());
        std::future::pending::<()>().await;
    });
    clone.block_on(started_rx).unwrap().unwrap();
    drop(rt);
    assert!(dropped_rx.try_recv().is_err(), "one handle is still alive");
    // On a thread outside any runtime, the shutdown is over when drop returns.
    drop(clone);
    dropped_rx.try_recv().expect("the task was dropped with the runtime");

    // The next use starts a fresh runtime.
    let fresh = RuntimeHandle::shared().unwrap();
    assert_eq!(fresh.block_on(async { 1 }).unwrap(), 1);
}

#[test]
fn dropping_the_last_handle_on_a_runtime_thread_does_not_panic() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel();
    let last = rt.clone();
    rt.spawn(async move {
        let _signal = DropSignal(dropped_tx);
        let _ = ready_tx.send(());
        let _ = go_rx.await;
        drop(last); // the last handle, dropped on a worker thread
        std::future::pending::<()>().await;
    });
    ready_rx.recv_timeout(LIMIT).unwrap();
    drop(rt);
    go_tx.send(()).unwrap();
    dropped_rx.recv_timeout(LIMIT).expect("the runtime shut down from its own worker");
}

#[test]
fn a_panicking_future_is_an_internal_error_not_a_hang() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let err = bounded(move || rt.block_on(async { panic!("boom {}", 42) }).unwrap_err());
    assert_eq!(err.code(), StatusCode::Internal);
    assert_eq!(err.details(), "rpc-sync runtime task panicked: boom 42");
    // The runtime is still usable.
    let rt = RuntimeHandle::shared().unwrap();
    assert_eq!(rt.block_on(async { "ok" }).unwrap(), "ok");
    let err = rt.block_on(async { std::panic::panic_any(5u8) }).unwrap_err();
    assert!(err.details().ends_with("non-string panic payload"), "{err}");
}

#[tokio::test]
async fn block_on_inside_a_tokio_test_returns_a_clear_error() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let err = rt.block_on(async { 1 }).unwrap_err();
    assert_in_runtime_error(&err);
    // Dropping the handle here, inside a runtime, must not panic either.
}

// The guard only keeps the tests apart; each test has its own thread and runtime.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_on_on_a_multi_thread_worker_returns_a_clear_error() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let err = tokio::spawn(async move { rt.block_on(async { 1 }).unwrap_err() }).await.unwrap();
    assert_in_runtime_error(&err);
}

// The guard only keeps the tests apart; each test has its own thread and runtime.
#[allow(clippy::await_holding_lock)]
#[tokio::test]
async fn block_on_in_a_user_spawn_blocking_thread_returns_a_clear_error() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    // tokio gives no stable way to tell its blocking pool from its workers: refused, as documented.
    let err = tokio::task::spawn_blocking(move || rt.block_on(async { 1 }).unwrap_err())
        .await
        .unwrap();
    assert_in_runtime_error(&err);
}

#[test]
fn block_on_from_our_own_worker_is_refused_not_deadlocked() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let inner = rt.clone();
    let err = bounded(move || rt.block_on(async move { inner.block_on(async { 1 }).unwrap_err() }).unwrap());
    assert_in_runtime_error(&err);
}

#[test]
fn block_on_under_enter_is_refused() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    {
        let _entered = rt.enter();
        let _timer = tokio::time::sleep(Duration::from_secs(1)); // a reactor is available
        assert_in_runtime_error(&rt.block_on(async { 1 }).unwrap_err());
    }
    assert_eq!(rt.block_on(async { 2 }).unwrap(), 2);
}

#[test]
fn block_on_inside_our_spawn_blocking_works() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let inner = rt.clone();
    let outer = rt.clone();
    let result = bounded(move || {
        let task = outer.spawn_blocking(move || {
            inner.block_on(async {
                tokio::task::yield_now().await;
                5
            })
        });
        futures::executor::block_on(task)
    });
    assert_eq!(result.unwrap().unwrap(), 5);
    // A plain tokio spawn_blocking on the same pool (maybe the same thread) is refused again:
    // the permission does not leak out of the closure.
    let task = rt.handle().spawn_blocking({
        let rt = rt.clone();
        move || rt.block_on(async { 1 }).map_err(|e| e.code())
    });
    assert_eq!(
        bounded(move || futures::executor::block_on(task).unwrap()),
        Err(StatusCode::FailedPrecondition)
    );
}

#[test]
fn spawn_runs_in_the_background() {
    let _serial = serial();
    let rt = RuntimeHandle::shared().unwrap();
    let task = rt.spawn(async { thread_name() });
    let name = bounded(move || futures::executor::block_on(task).unwrap());
    assert!(name.starts_with("rpc-sync-runtime-"), "{name}");
}

#[test]
fn runtime_handle_is_send_sync_unpin() {
    fn assert_traits<T: Send + Sync + Unpin + Clone + std::fmt::Debug + 'static>() {}
    assert_traits::<RuntimeHandle>();
}
