//! Outgoing HTTPS with one TLS stack: rustls on ring, for the carriers' clients (reqwest) as
//! for the AWS SDK's (`adapters::aws::sdk_config`).

use std::sync::Once;

/// A reqwest client builder whose TLS runs on rustls with ring. reqwest is built without a
/// crypto provider of its own (`rustls-no-provider`: it would bring aws-lc), so every client of
/// the process must come from here, which installs ring as the process's default provider once.
/// Certificates are verified against the platform's roots (rustls-platform-verifier), loaded on
/// first use, not when the client is built.
#[allow(clippy::disallowed_methods)] // the one place that may (clippy.toml)
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// Makes ring the process's default rustls crypto provider, unless one is installed already.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means another provider was installed first: reqwest uses that one, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn clients_build_without_a_provider_of_their_own() {
        // Would panic inside reqwest if no provider were installed.
        assert!(super::client_builder().build().is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
