//! `rpc list`: the services, or the methods of one service (as `package.Service.Method`).

use crate::exit::Failure;
use crate::schema::Schema;

pub(crate) async fn run(schema: &Schema, service: Option<&str>) -> Result<String, Failure> {
    let Some(service) = service else {
        let services = schema
            .services()
            .await
            .map_err(|e| Failure::general(format!("failed to list services: {e}")))?;
        return Ok(lines(services));
    };
    let service = service.trim().trim_start_matches('.');
    let failed = |e: &dyn std::fmt::Display| Failure::general(format!("failed to list methods for service {service:?}: {e}"));
    let pool = schema.pool_for(service).await.map_err(|e| failed(&e))?;
    let Some(descriptor) = pool.get_service_by_name(service) else {
        return Err(match rpc_dynamic::find_symbol(&pool, service) {
            Ok(symbol) => failed(&format!("{service} is a {}, not a service", symbol.kind_name())),
            Err(e) => failed(&e),
        });
    };
    let mut methods: Vec<String> = descriptor.methods().map(|m| m.full_name().to_owned()).collect();
    methods.sort();
    Ok(lines(methods))
}

fn lines(items: Vec<String>) -> String {
    items.into_iter().map(|item| item + "\n").collect()
}
