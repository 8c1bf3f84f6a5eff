//! `rpc describe`: a symbol as proto source, or every service when none is named.

use crate::exit::Failure;
use crate::schema::Schema;
use rpc_dynamic::{Symbol, describe, find_symbol};

pub(crate) async fn run(schema: &Schema, symbol: Option<&str>) -> Result<String, Failure> {
    match symbol {
        Some(symbol) => {
            let symbol = symbol.trim().trim_start_matches('.');
            let failed = |e: rpc_dynamic::Error| Failure::general(format!("failed to resolve symbol {symbol:?}: {e}"));
            let pool = schema.pool_for(symbol).await.map_err(failed)?;
            Ok(describe(&find_symbol(&pool, symbol).map_err(failed)?))
        }
        None => {
            let pool = schema
                .pool_for_all()
                .await
                .map_err(|e| Failure::general(format!("failed to list services: {e}")))?;
            let mut services: Vec<_> = pool.services().collect();
            services.sort_by(|a, b| a.full_name().cmp(b.full_name()));
            Ok(services.into_iter().map(|s| describe(&Symbol::Service(s))).collect())
        }
    }
}
