//! `talab mcp --http ADDR`: the same tools over MCP's streamable HTTP transport (rmcp's service in
//! an axum server, at `/mcp`), for clients that connect to a URL rather than start a process.
//!
//! Safe by default: on a loopback address the server accepts loopback `Host` headers only (rmcp's
//! guard against DNS rebinding); beyond loopback it refuses to start without a token, and with a
//! token set every request must carry `Authorization: Bearer TOKEN` (compared in constant time),
//! on any address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::TalabMcp;
use crate::app::App;
use crate::exit::CliError;

/// Serves until Ctrl-C.
pub async fn serve(app: App, addr: SocketAddr) -> Result<(), CliError> {
    let token = app
        .config()
        .mcp_token
        .value
        .as_ref()
        .filter(|t| !t.is_blank())
        .map(|t| Arc::<str>::from(t.expose()));
    let loopback = addr.ip().is_loopback();
    if !loopback && token.is_none() {
        return Err(CliError::usage(format!(
            "--http {addr} is reachable from other machines: set a token first (TALAB_MCP_TOKEN, or mcp.token \
             in the config file); clients then send `Authorization: Bearer TOKEN`"
        )));
    }
    let mut config = StreamableHttpServerConfig::default();
    if !loopback {
        // Beyond loopback the token guards the server, and clients name it by any host name.
        config.allowed_hosts = Vec::new();
    }
    let service = StreamableHttpService::new(
        move || Ok(TalabMcp::new(app.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let mut router = axum::Router::new().nest_service("/mcp", service);
    if let Some(token) = token {
        router = router.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let token = token.clone();
            async move { authorised(&token, request, next).await }
        }));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::failure(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr().unwrap_or(addr);
    eprintln!("talab mcp: serving MCP on http://{bound}/mcp (Ctrl-C stops)");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| CliError::failure(format!("the MCP HTTP server failed: {e}")))
}

/// Passes a request carrying the token on; answers 401 to any other.
async fn authorised(token: &str, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if same(given.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "talab mcp: missing or wrong bearer token\n",
        )
            .into_response(),
    }
}

/// Equal bytes, in time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"s3cret-token", b"s3cret-token"));
        assert!(!same(b"s3cret-token", b"s3cret-tokeN"));
        assert!(!same(b"s3cret", b"s3cret-token"));
        assert!(!same(b"", b"x"));
    }
}
