//! The async [`ReflectionClient`]: lists a server's services and fetches the files that
//! define symbols, with their imports, into a [`DescriptorPool`].

use super::ReflectionVersion;
use super::files::FileSet;
use super::session::{CallSettings, Session, call_error};
use crate::error::Error;
use prost_reflect::DescriptorPool;
use rpc_core::{Metadata, StatusCode};
use rpc_reflection::pb::v1::server_reflection_request::MessageRequest;
use rpc_reflection::pb::v1::server_reflection_response::MessageResponse;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A bound on rounds of file requests: each round receives a file or learns that one is
/// absent, so a well-behaved server needs as many rounds as its import graph is deep.
const MAX_ROUNDS: usize = 256;

/// A client of the gRPC server reflection service, on an async channel.
///
/// Each operation opens one `ServerReflectionInfo` stream, v1
/// (`grpc.reflection.v1.ServerReflection`) first; if the server answers UNIMPLEMENTED it
/// asks `grpc.reflection.v1alpha.ServerReflection` instead and remembers which worked.
/// Files are fetched with `file_containing_symbol`, then every import not yet received
/// with `file_by_filename`, transitively, and linked into one pool. An import the server
/// does not have is taken from the well-known types when it is one
/// (`google/protobuf/*.proto`); otherwise building the pool fails naming it.
///
/// Cloning is cheap; clones share the channel and the version learned.
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn demo() -> Result<(), rpc_dynamic::Error> {
/// use rpc_dynamic::{ReflectionClient, find_method};
/// let channel = rpc_aio::insecure_channel("127.0.0.1:50051", rpc_core::ChannelOptions::default())
///     .expect("a valid target");
/// let client = ReflectionClient::new(channel);
/// let services = client.list_services().await?;
/// let pool = client.pool_for_symbols(&services).await?;
/// let method = find_method(&pool, "helloworld.Greeter/SayHello")?;
/// println!("{} takes {}", method.full_name(), method.input().full_name());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ReflectionClient {
    channel: rpc_aio::Channel,
    settings: CallSettings,
    forced: Option<ReflectionVersion>,
    learned: Arc<Mutex<Option<ReflectionVersion>>>,
}

impl fmt::Debug for ReflectionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReflectionClient")
            .field("channel", &self.channel)
            .field("version", &self.version())
            .finish()
    }
}

impl ReflectionClient {
    /// A client that asks the server at the other end of `channel`.
    pub fn new(channel: rpc_aio::Channel) -> ReflectionClient {
        ReflectionClient {
            channel,
            settings: CallSettings::default(),
            forced: None,
            learned: Arc::default(),
        }
    }

    /// Metadata sent with every reflection call (grpcurl's `-reflect-header`).
    pub fn with_metadata(mut self, metadata: Metadata) -> ReflectionClient {
        self.settings.metadata = metadata;
        self
    }

    /// A deadline for each reflection call, counted from its start.
    pub fn with_timeout(mut self, timeout: Duration) -> ReflectionClient {
        self.settings.timeout = Some(timeout);
        self
    }

    /// Speak only `version`: no fallback from v1 to v1alpha.
    pub fn with_version(mut self, version: ReflectionVersion) -> ReflectionClient {
        self.forced = Some(version);
        self
    }

    /// The channel the calls are made on.
    pub fn channel(&self) -> &rpc_aio::Channel {
        &self.channel
    }

    /// The version in use: the one forced, or the one learned from the server (`None`
    /// before the first successful operation).
    pub fn version(&self) -> Option<ReflectionVersion> {
        self.forced.or_else(|| *self.learned.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Opens a session and asks `questions` on it, falling back to v1alpha on UNIMPLEMENTED.
    async fn start(&self, what: &str, questions: Vec<MessageRequest>) -> Result<(Session, Vec<MessageResponse>), Error> {
        let (session, version, answers) = Session::negotiate(&self.channel, self.version(), &self.settings, questions)
            .await
            .map_err(call_error(what))?;
        if self.forced.is_none() {
            *self.learned.lock().unwrap_or_else(|p| p.into_inner()) = Some(version);
        }
        Ok((session, answers))
    }

    /// The full names of the services the server lists, sorted.
    ///
    /// # Errors
    /// [`ErrorKind::ReflectionUnavailable`](crate::ErrorKind::ReflectionUnavailable) when
    /// the server serves neither version; [`ErrorKind::Rpc`](crate::ErrorKind::Rpc) when a
    /// call fails (unreachable server, deadline, ...).
    ///
    /// # Cancel safety
    /// Dropping the future cancels the reflection call; nothing else is left behind.
    pub async fn list_services(&self) -> Result<Vec<String>, Error> {
        let (session, answers) = self
            .start("listing services", vec![MessageRequest::ListServices(String::new())])
            .await?;
        session.finish().await;
        match answers.into_iter().next() {
            Some(MessageResponse::ListServicesResponse(list)) => {
                let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
                names.sort();
                names.dedup();
                Ok(names)
            }
            Some(MessageResponse::ErrorResponse(e)) => Err(Error::reflection(format!(
                "listing services: the server answered {}: {}",
                StatusCode::from_i32(e.error_code),
                e.error_message
            ))),
            _ => Err(Error::reflection("listing services: the server answered something else")),
        }
    }

    /// A pool of the files that define `symbols` (services, messages, enums, methods,
    /// fields, extensions; fully qualified) and everything they import.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) naming the first symbol the
    /// server does not know; the errors of [`list_services`](Self::list_services); and
    /// [`ErrorKind::Descriptor`](crate::ErrorKind::Descriptor) when the files do not link.
    ///
    /// # Cancel safety
    /// Dropping the future cancels the reflection call.
    pub async fn pool_for_symbols<S: AsRef<str>>(&self, symbols: &[S]) -> Result<DescriptorPool, Error> {
        self.fetch(None, symbols).await
    }

    /// `pool` plus the files that define `symbols` (and their imports) that it lacks;
    /// symbols `pool` already defines are not asked for. For example, to resolve the
    /// types of `Any` values found in a response
    /// ([`unresolved_any_types`](crate::unresolved_any_types)).
    ///
    /// # Errors
    /// As [`pool_for_symbols`](Self::pool_for_symbols).
    pub async fn add_symbols<S: AsRef<str>>(&self, pool: &DescriptorPool, symbols: &[S]) -> Result<DescriptorPool, Error> {
        self.fetch(Some(pool), symbols).await
    }

    /// A pool of every service the server lists (and their imports), as grpcurl builds
    /// for `describe` without a symbol.
    ///
    /// # Errors
    /// As [`list_services`](Self::list_services) and [`pool_for_symbols`](Self::pool_for_symbols).
    pub async fn pool_for_all_services(&self) -> Result<DescriptorPool, Error> {
        let services = self.list_services().await?;
        self.fetch(None, &services).await
    }

    /// A pool of the files named `names` (as in `import` statements) and their imports.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) naming a file the server does
    /// not have; otherwise as [`pool_for_symbols`](Self::pool_for_symbols).
    pub async fn pool_for_files<S: AsRef<str>>(&self, names: &[S]) -> Result<DescriptorPool, Error> {
        let what = "fetching files by reflection";
        let names: Vec<String> = names.iter().map(|n| n.as_ref().to_owned()).collect();
        let mut files = FileSet::default();
        if names.is_empty() {
            return files.into_pool(None);
        }
        let (mut session, answers) = self
            .start(what, names.iter().cloned().map(MessageRequest::FileByFilename).collect())
            .await?;
        for (name, answer) in names.iter().zip(answers) {
            match answer {
                MessageResponse::FileDescriptorResponse(r) => files.add_encoded(&r.file_descriptor_proto)?,
                MessageResponse::ErrorResponse(e) => {
                    return Err(Error::not_found(format!(
                        "file not found: {name} (the server said: {})",
                        e.error_message
                    )));
                }
                _ => return Err(Error::reflection(format!("{what}: an unexpected answer for file {name:?}"))),
            }
        }
        self.fetch_imports(&mut session, &mut files, None, what).await?;
        session.finish().await;
        files.into_pool(None)
    }

    async fn fetch<S: AsRef<str>>(&self, base: Option<&DescriptorPool>, symbols: &[S]) -> Result<DescriptorPool, Error> {
        let what = "fetching descriptors by reflection";
        let wanted: Vec<String> = symbols
            .iter()
            .map(|s| s.as_ref().trim().trim_start_matches('.').to_owned())
            .filter(|s| base.is_none_or(|pool| crate::find_symbol(pool, s).is_err()))
            .collect();
        let mut files = FileSet::default();
        if wanted.is_empty() {
            return files.into_pool(base);
        }
        let questions = wanted.iter().cloned().map(MessageRequest::FileContainingSymbol).collect();
        let (mut session, answers) = self.start(what, questions).await?;
        for (symbol, answer) in wanted.iter().zip(answers) {
            match answer {
                MessageResponse::FileDescriptorResponse(r) => files.add_encoded(&r.file_descriptor_proto)?,
                MessageResponse::ErrorResponse(e) if e.error_code == StatusCode::NotFound.value() => {
                    return Err(Error::not_found(format!("symbol not found: {symbol}")));
                }
                MessageResponse::ErrorResponse(e) => {
                    return Err(Error::reflection(format!(
                        "{what}: the server answered {} for {symbol:?}: {}",
                        StatusCode::from_i32(e.error_code),
                        e.error_message
                    )));
                }
                _ => return Err(Error::reflection(format!("{what}: an unexpected answer for {symbol:?}"))),
            }
        }
        self.fetch_imports(&mut session, &mut files, base, what).await?;
        session.finish().await;
        files.into_pool(base)
    }

    /// Asks for the imports not yet received, round after round, until none is missing.
    async fn fetch_imports(
        &self,
        session: &mut Session,
        files: &mut FileSet,
        base: Option<&DescriptorPool>,
        what: &str,
    ) -> Result<(), Error> {
        for _ in 0..MAX_ROUNDS {
            let missing = files.missing(base);
            if missing.is_empty() {
                return Ok(());
            }
            let answers = session
                .ask(missing.iter().cloned().map(MessageRequest::FileByFilename).collect())
                .await
                .map_err(call_error(what))?;
            for (name, answer) in missing.iter().zip(answers) {
                if let MessageResponse::FileDescriptorResponse(r) = answer {
                    files.add_encoded(&r.file_descriptor_proto)?;
                }
                // Not sent (an error, or other files): absent, so it is not asked again.
                if !files.contains(name) {
                    files.mark_absent(name);
                }
            }
        }
        Err(Error::reflection(format!(
            "{what}: imports still missing after {MAX_ROUNDS} rounds of requests"
        )))
    }
}
