//! Where the schema comes from: the server's reflection service, or `--proto` /
//! `--protoset` files (then the server is not asked).

use crate::args::Common;
use crate::exit::Failure;
use rpc_core::Metadata;
use rpc_dynamic::{DescriptorPool, ErrorKind, ReflectionClient, find_symbol};
use std::time::Duration;

/// The source of descriptors for one command.
pub(crate) enum Schema {
    /// Ask the server.
    Reflection(ReflectionClient),
    /// Files given on the command line.
    Files(DescriptorPool),
}

impl Schema {
    /// The files of `--proto`/`--protoset`, if any were given.
    pub(crate) fn from_files(common: &Common) -> Result<Option<Schema>, Failure> {
        match (common.protos.is_empty(), common.protosets.is_empty()) {
            (true, true) => Ok(None),
            (false, false) => Err(Failure::usage("use either --proto or --protoset, not both")),
            (false, true) => Ok(Some(Schema::Files(rpc_dynamic::load_protos(&common.protos, &common.import_paths)?))),
            (true, false) => {
                let mut pool = DescriptorPool::new();
                for path in &common.protosets {
                    let bytes = std::fs::read(path).map_err(|e| Failure::general(format!("reading --protoset {}: {e}", path.display())))?;
                    pool.decode_file_descriptor_set(bytes.as_slice())
                        .map_err(|e| Failure::general(format!("--protoset {}: {e}", path.display())))?;
                }
                Ok(Some(Schema::Files(pool)))
            }
        }
    }

    /// Reflection on `channel`, with `metadata` on its calls and `timeout` for each.
    pub(crate) fn reflection(channel: rpc_aio::Channel, metadata: Metadata, timeout: Option<Duration>) -> Schema {
        let mut client = ReflectionClient::new(channel).with_metadata(metadata);
        if let Some(timeout) = timeout {
            client = client.with_timeout(timeout);
        }
        Schema::Reflection(client)
    }

    /// The full names of the services, sorted.
    pub(crate) async fn services(&self) -> Result<Vec<String>, rpc_dynamic::Error> {
        match self {
            Schema::Reflection(client) => client.list_services().await,
            Schema::Files(pool) => {
                let mut names: Vec<String> = pool.services().map(|s| s.full_name().to_owned()).collect();
                names.sort();
                Ok(names)
            }
        }
    }

    /// A pool that defines `symbol`. Through reflection, a symbol the server does not index
    /// (an enum value, say) is looked for in the file of its parent.
    pub(crate) async fn pool_for(&self, symbol: &str) -> Result<DescriptorPool, rpc_dynamic::Error> {
        let client = match self {
            Schema::Files(pool) => return Ok(pool.clone()),
            Schema::Reflection(client) => client,
        };
        let symbol = symbol.trim().trim_start_matches('.');
        match client.pool_for_symbols(&[symbol]).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let Some((parent, _)) = symbol.rsplit_once('.') else {
                    return Err(e);
                };
                match client.pool_for_symbols(&[parent]).await {
                    Ok(pool) if find_symbol(&pool, symbol).is_ok() => Ok(pool),
                    _ => Err(e),
                }
            }
            other => other,
        }
    }

    /// A pool of every service.
    pub(crate) async fn pool_for_all(&self) -> Result<DescriptorPool, rpc_dynamic::Error> {
        match self {
            Schema::Reflection(client) => client.pool_for_all_services().await,
            Schema::Files(pool) => Ok(pool.clone()),
        }
    }

    /// After a response: `pool` plus the types of `Any` values it could not print, when
    /// the server can say (reflection); `None` when nothing could be added.
    pub(crate) async fn resolve_any(&self, pool: &DescriptorPool, types: &[String]) -> Option<DescriptorPool> {
        match self {
            Schema::Reflection(client) => client.add_symbols(pool, types).await.ok(),
            Schema::Files(_) => None,
        }
    }
}
