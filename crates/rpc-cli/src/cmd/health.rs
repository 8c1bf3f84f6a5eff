//! `rpc health`: grpc.health.v1.Health/Check for a service; the status on stdout, exit 4
//! when it is not SERVING.

use crate::exit::{Failure, NOT_SERVING};
use rpc_core::{Metadata, Request};
use rpc_health::{HealthCheckRequest, HealthStub, ServingStatus};
use std::time::Instant;

/// The status's name for stdout, and the exit code (0 for SERVING).
pub(crate) async fn run(
    channel: &rpc_aio::Channel,
    service: &str,
    metadata: Metadata,
    deadline: Option<Instant>,
) -> Result<(String, i32), Failure> {
    let mut request = Request::new(HealthCheckRequest {
        service: service.to_owned(),
    })
    .metadata(metadata);
    if let Some(deadline) = deadline {
        request = request.deadline(deadline);
    }
    let response = HealthStub::new(channel.clone()).check(request).await.map_err(Failure::rpc)?;
    let status = ServingStatus::try_from(response.status).unwrap_or(ServingStatus::Unknown);
    let name = match ServingStatus::try_from(response.status) {
        Ok(known) => known.as_str_name().to_owned(),
        Err(_) => format!("UNKNOWN_STATUS_{}", response.status),
    };
    let code = if status == ServingStatus::Serving { 0 } else { NOT_SERVING };
    Ok((format!("{name}\n"), code))
}
