//! The blocking [`ReflectionClient`]: the async client run on rpc-sync's runtime, for an
//! `rpc_sync::Channel`.

use super::ReflectionVersion;
use crate::error::Error;
use prost_reflect::DescriptorPool;
use rpc_core::Metadata;
use rpc_sync::RuntimeHandle;
use std::future::Future;
use std::time::Duration;

/// A client of the gRPC server reflection service whose methods block: the same
/// operations and rules as the async [`crate::ReflectionClient`], which it wraps and runs
/// on rpc-sync's runtime.
///
/// Like every blocking call of rpc-sync, a method called on a thread inside an async
/// runtime fails at once (kind [`ErrorKind::Rpc`](crate::ErrorKind::Rpc), status FAILED_PRECONDITION) instead of
/// blocking it.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let channel = rpc_sync::insecure_channel("127.0.0.1:50051", rpc_core::ChannelOptions::default())?;
/// let client = rpc_dynamic::blocking::ReflectionClient::new(&channel)?;
/// for service in client.list_services()? {
///     println!("{service}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ReflectionClient {
    inner: crate::ReflectionClient,
    runtime: RuntimeHandle,
}

impl ReflectionClient {
    /// A client that asks the server at the other end of `channel`.
    ///
    /// # Errors
    /// [`ErrorKind::Rpc`](crate::ErrorKind::Rpc) (UNAVAILABLE) if rpc-sync's runtime cannot be started.
    pub fn new(channel: &rpc_sync::Channel) -> Result<ReflectionClient, Error> {
        let runtime = RuntimeHandle::shared().map_err(|e| Error::rpc("starting the rpc-sync runtime", e))?;
        Ok(ReflectionClient {
            inner: crate::ReflectionClient::new(channel.as_aio().clone()),
            runtime,
        })
    }

    /// Metadata sent with every reflection call.
    pub fn with_metadata(mut self, metadata: Metadata) -> ReflectionClient {
        self.inner = self.inner.with_metadata(metadata);
        self
    }

    /// A deadline for each reflection call, counted from its start.
    pub fn with_timeout(mut self, timeout: Duration) -> ReflectionClient {
        self.inner = self.inner.with_timeout(timeout);
        self
    }

    /// Speak only `version`: no fallback from v1 to v1alpha.
    pub fn with_version(mut self, version: ReflectionVersion) -> ReflectionClient {
        self.inner = self.inner.with_version(version);
        self
    }

    /// The version in use (see [`crate::ReflectionClient::version`]).
    pub fn version(&self) -> Option<ReflectionVersion> {
        self.inner.version()
    }

    /// The async client this one runs.
    pub fn as_aio(&self) -> &crate::ReflectionClient {
        &self.inner
    }

    fn block<T, F>(&self, future: F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        match self.runtime.block_on(future) {
            Ok(result) => result,
            Err(e) => Err(Error::rpc("blocking reflection call", e)),
        }
    }

    /// The full names of the services the server lists, sorted.
    ///
    /// # Errors
    /// As [`crate::ReflectionClient::list_services`].
    pub fn list_services(&self) -> Result<Vec<String>, Error> {
        let inner = self.inner.clone();
        self.block(async move { inner.list_services().await })
    }

    /// A pool of the files that define `symbols` and everything they import.
    ///
    /// # Errors
    /// As [`crate::ReflectionClient::pool_for_symbols`].
    pub fn pool_for_symbols<S: AsRef<str>>(&self, symbols: &[S]) -> Result<DescriptorPool, Error> {
        let inner = self.inner.clone();
        let symbols: Vec<String> = symbols.iter().map(|s| s.as_ref().to_owned()).collect();
        self.block(async move { inner.pool_for_symbols(&symbols).await })
    }

    /// `pool` plus the files that define `symbols` that it lacks.
    ///
    /// # Errors
    /// As [`crate::ReflectionClient::add_symbols`].
    pub fn add_symbols<S: AsRef<str>>(&self, pool: &DescriptorPool, symbols: &[S]) -> Result<DescriptorPool, Error> {
        let inner = self.inner.clone();
        let pool = pool.clone();
        let symbols: Vec<String> = symbols.iter().map(|s| s.as_ref().to_owned()).collect();
        self.block(async move { inner.add_symbols(&pool, &symbols).await })
    }

    /// A pool of every service the server lists.
    ///
    /// # Errors
    /// As [`crate::ReflectionClient::pool_for_all_services`].
    pub fn pool_for_all_services(&self) -> Result<DescriptorPool, Error> {
        let inner = self.inner.clone();
        self.block(async move { inner.pool_for_all_services().await })
    }

    /// A pool of the files named `names` and their imports.
    ///
    /// # Errors
    /// As [`crate::ReflectionClient::pool_for_files`].
    pub fn pool_for_files<S: AsRef<str>>(&self, names: &[S]) -> Result<DescriptorPool, Error> {
        let inner = self.inner.clone();
        let names: Vec<String> = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self.block(async move { inner.pool_for_files(&names).await })
    }
}
