//! Fyber's fake, for `adauth-testkit`: `POST /auth/v1/token` with a JSON client-credentials
//! body, answered in camel case; reports at `POST /api/v1/report?format=csv`.

use adauth_testkit::fake::ClientCredentialsFake;

/// The sandbox Reporting API ID.
pub const CLIENT_ID: &str = "sandbox-fyber-client";
/// The sandbox Reporting API password.
pub const CLIENT_SECRET: &str = "sandbox-fyber-secret";

/// The fake.
pub const FAKE: ClientCredentialsFake = ClientCredentialsFake {
    name: crate::PROVIDER,
    token_path: crate::TOKEN_PATH,
    json: true,
    basic: false,
    camel_case: true,
    client: (CLIENT_ID, CLIENT_SECRET),
    env: (
        crate::ENV_CLIENT_ID,
        crate::ENV_CLIENT_SECRET,
        crate::ENV_BASE_URL,
    ),
    refused: (400, "invalid_client"),
    malformed: (400, "invalid_request"),
    unavailable: "internal_server_error",
    protected: (
        "POST",
        "/api/v1/report?format=csv",
        "text/csv",
        "date,application_id,application_name,impressions,completions,revenue_usd\n\
         2026-01-01,100001,Sandbox App,1200,34,12.50\n",
    ),
};
