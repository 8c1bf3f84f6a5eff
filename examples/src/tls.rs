//! TLS and mutual TLS for the examples: a throwaway certificate authority and the server
//! and client certificates it signs, made with rcgen at run time (nothing to install, no
//! files to keep), and the credentials built from them.
//!
//! - TLS: the server presents `server.pem` (signed by the CA, for `localhost` and
//!   `127.0.0.1`); the client trusts `ca.pem` and checks the server's name.
//! - Mutual TLS: the client also presents `client.pem`; the server requires it and checks
//!   that it was signed by the same CA. Handlers see the client's identity (its subject
//!   alternative names) in `ServicerContext::peer_identities` and the auth context.

use crate::pb::helloworld::{AsyncGreeterServicer, HelloReply, HelloRequest};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rpc_core::{ChannelCredentials, ChannelOptions, RpcError, ServerCredentials, ServicerContext};
use std::path::Path;

/// The name the server's certificate is issued for, and that clients check.
pub const SERVER_NAME: &str = "localhost";
/// The identity in the client certificate (a DNS subject alternative name).
pub const CLIENT_NAME: &str = "client.example";

/// A CA and the server and client certificates it signed, all PEM.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA certificate, trusted by both sides.
    pub ca_cert: String,
    /// The server certificate, for [`SERVER_NAME`] and `127.0.0.1`.
    pub server_cert: String,
    /// The server's private key.
    pub server_key: String,
    /// The client certificate, for [`CLIENT_NAME`].
    pub client_cert: String,
    /// The client's private key.
    pub client_key: String,
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::internal(format!("certificate generation failed: {e}"))
}

fn invalid(e: impl std::fmt::Display) -> RpcError {
    RpcError::invalid_argument(e.to_string())
}

impl Pki {
    /// Generates a fresh CA and a server and a client certificate signed by it.
    ///
    /// # Errors
    /// INTERNAL if rcgen fails (it does not, for these fixed parameters).
    pub fn generate() -> Result<Pki, RpcError> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(internal)?;
        ca.distinguished_name.push(DnType::CommonName, "rpc examples CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(internal)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(internal)?.pem();
        let issuer = Issuer::new(ca, ca_key);

        let leaf = |names: Vec<String>, cn: &str| -> Result<(String, String), RpcError> {
            let mut params = CertificateParams::new(names).map_err(internal)?;
            params.distinguished_name.push(DnType::CommonName, cn);
            let key = KeyPair::generate().map_err(internal)?;
            Ok((params.signed_by(&key, &issuer).map_err(internal)?.pem(), key.serialize_pem()))
        };
        let (server_cert, server_key) = leaf(vec![SERVER_NAME.to_owned(), "127.0.0.1".to_owned()], "rpc example server")?;
        let (client_cert, client_key) = leaf(vec![CLIENT_NAME.to_owned()], "rpc example client")?;
        Ok(Pki {
            ca_cert,
            server_cert,
            server_key,
            client_cert,
            client_key,
        })
    }

    /// The server's credentials: TLS, or mutual TLS requiring a client certificate signed by the CA.
    ///
    /// # Errors
    /// INVALID_ARGUMENT if the PEM is refused (it is not, as generated).
    pub fn server_credentials(&self, mutual: bool) -> Result<ServerCredentials, RpcError> {
        let pair = (self.server_key.as_bytes(), self.server_cert.as_bytes());
        let roots = mutual.then_some(self.ca_cert.as_bytes());
        ServerCredentials::ssl(&[pair], roots, mutual).map_err(invalid)
    }

    /// A client's credentials: trusting the CA, and presenting the client certificate when `mutual`.
    ///
    /// # Errors
    /// INVALID_ARGUMENT if the PEM is refused (it is not, as generated).
    pub fn channel_credentials(&self, mutual: bool) -> Result<ChannelCredentials, RpcError> {
        let (key, chain) = match mutual {
            true => (Some(self.client_key.as_bytes()), Some(self.client_cert.as_bytes())),
            false => (None, None),
        };
        ChannelCredentials::ssl(Some(self.ca_cert.as_bytes()), key, chain).map_err(invalid)
    }

    /// Writes `ca.pem`, `server.pem`, `server.key`, `client.pem` and `client.key` into `dir`
    /// (created if needed), for other clients such as grpcurl.
    ///
    /// # Errors
    /// The I/O error, if a file cannot be written.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, pem) in [
            ("ca.pem", &self.ca_cert),
            ("server.pem", &self.server_cert),
            ("server.key", &self.server_key),
            ("client.pem", &self.client_cert),
            ("client.key", &self.client_key),
        ] {
            std::fs::write(dir.join(name), pem)?;
        }
        Ok(())
    }
}

/// Channel options for a TLS channel to `127.0.0.1`: the server name checked is [`SERVER_NAME`].
pub fn channel_options() -> ChannelOptions {
    let mut options = ChannelOptions::default();
    options.ssl_target_name_override = Some(SERVER_NAME.to_owned());
    options
}

/// A greeter that says who the client is, by its certificate (mutual TLS) or as anonymous.
#[derive(Debug, Default)]
pub struct IdentityGreeter;

impl AsyncGreeterServicer for IdentityGreeter {
    async fn say_hello(&self, request: HelloRequest, context: &ServicerContext) -> Result<HelloReply, RpcError> {
        let identity = match context.peer_identities() {
            Some(ids) => ids
                .iter()
                .map(|id| String::from_utf8_lossy(id).into_owned())
                .collect::<Vec<_>>()
                .join(", "),
            None => "no client certificate".to_owned(),
        };
        Ok(HelloReply {
            message: format!("Hello, {}! (over TLS; client identity: {identity})", request.name),
        })
    }
}
