//! The clients adauth builds check a server's certificate against the system's roots, which
//! they load on their first TLS connection: a loopback server whose certificate no system
//! root signed is refused, on every connection.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

/// A TLS server on loopback with a self-signed certificate for `127.0.0.1`, answering each
/// connection that completes a handshake with a token answer; returns its port.
fn self_signed_server() -> u16 {
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("parameters")
        .self_signed(&key)
        .expect("a certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server configuration");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let mut conn = rustls::ServerConnection::new(config).expect("a connection");
                let mut tls = rustls::Stream::new(&mut conn, &mut stream);
                let mut request = [0u8; 4096];
                if tls.read(&mut request).is_ok() {
                    let body = r#"{"access_token":"tok","expires_in":3600}"#;
                    let _ = write!(
                        tls,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_certificate_that_no_system_root_signed_is_refused_on_every_connection() {
    let port = self_signed_server();
    let client = adauth::http::default_client().expect("a client");
    for _ in 0..2 {
        let err = client
            .get(format!("https://127.0.0.1:{port}/token"))
            .send()
            .await
            .expect_err("an unknown issuer is refused");
        let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        assert!(
            chain.contains("certificate") || chain.contains("UnknownIssuer"),
            "{chain}"
        );
    }
}
