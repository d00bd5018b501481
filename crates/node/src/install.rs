//! One command to join: `curl -fsSL http://POOL/install.sh | sh -s -- --key KEY`.
//!
//! The node serves the agent it runs itself (`NodeConfig::agent_binary`, the `zkpool` binary
//! of `zkpool node`) at `GET /v1/agent/zkpool`, and a POSIX shell script at `GET /install.sh`
//! that downloads it from this node, checks it against the sha256 the script carries, installs
//! it for the user and starts `zkpool prover` (a systemd user unit where systemd runs, the
//! foreground otherwise). Nothing is fetched from anywhere but the pool. Both routes are
//! public, like the dashboard: the agent is the same program for everyone, and a key is only
//! ever typed by the operator into their own shell.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::OnceCell;

use zkpool_types::api::ErrorBody;

use crate::{ApiError, Node};

/// The agent binary this node serves, hashed once.
#[derive(Debug, Default)]
pub(crate) struct Agent {
    digest: OnceCell<(String, u64)>,
}

impl Agent {
    /// The binary's sha256 (hex) and size, read once per process.
    async fn digest(&self, path: &Path) -> Result<&(String, u64), ApiError> {
        self.digest
            .get_or_try_init(|| async {
                let path = path.to_path_buf();
                tokio::task::spawn_blocking(move || hash_file(&path))
                    .await
                    .map_err(ApiError::internal)?
            })
            .await
    }
}

fn hash_file(path: &Path) -> Result<(String, u64), ApiError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| {
        ApiError::internal(format!(
            "cannot read the agent binary {}: {e}",
            path.display()
        ))
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(ApiError::internal)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

fn no_agent() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_agent_binary",
        "this node does not serve an agent binary (it was not started by the zkpool binary); \
         build zkpool on the prover machine instead",
    )
}

fn agent_path(node: &Node) -> Result<&PathBuf, ApiError> {
    node.config.agent_binary.as_ref().ok_or_else(no_agent)
}

/// The URL provers should use for this node: `--public-url`, or the host the caller asked
/// for. A Host header that is not a plain host[:port] is refused, since it ends up in a
/// script someone runs.
fn pool_url(node: &Node, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(url) = &node.config.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| {
            ApiError::bad_request("bad_host", "no Host header: say which pool to connect to")
        })?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !plain {
        return Err(ApiError::bad_request(
            "bad_host",
            "the Host header is not a plain host[:port]",
        ));
    }
    Ok(format!("http://{host}"))
}

/// `uname -s` for the OS this node was built for.
fn uname_os() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "freebsd" => "FreeBSD",
        other => other,
    }
}

/// The 404 of both routes when the node was not started by the `zkpool` binary.
const NO_AGENT: &str = "`no_agent_binary`: this node does not serve the agent";

/// `GET /install.sh`: the installer, filled in with this pool's URL and the agent's digest.
#[utoipa::path(
    get,
    path = "/install.sh",
    tag = "public",
    responses(
        (status = 200, description = "the installer, for `curl -fsSL …/install.sh | sh -s -- --key KEY`", content_type = "text/x-shellscript", body = String),
        (status = 400, description = "`bad_host`: no usable Host header and no --public-url", body = ErrorBody),
        (status = 404, description = NO_AGENT, body = ErrorBody),
    )
)]
pub async fn script(
    State(node): State<Arc<Node>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let path = agent_path(&node)?;
    let url = pool_url(&node, &headers)?;
    let (sha, size) = node.agent.digest(path).await?;
    let body = include_str!("install.sh")
        .replace("@POOL@", &url)
        .replace("@SHA256@", sha)
        .replace("@SIZE@", &size.to_string())
        .replace("@OS@", uname_os())
        .replace("@ARCH@", std::env::consts::ARCH);
    Ok((
        [(header::CONTENT_TYPE, "text/x-shellscript; charset=utf-8")],
        body,
    )
        .into_response())
}

/// `GET /v1/agent/zkpool`: the agent binary, streamed, with its sha256 in a header.
#[utoipa::path(
    get,
    path = "/v1/agent/zkpool",
    tag = "public",
    responses(
        (status = 200, description = "the node's own `zkpool` binary (its sha256 is in the installer)", content_type = "application/octet-stream", body = String),
        (status = 404, description = NO_AGENT, body = ErrorBody),
    )
)]
pub async fn binary(State(node): State<Arc<Node>>) -> Result<Response, ApiError> {
    let path = agent_path(&node)?;
    let (sha, size) = node.agent.digest(path).await?.clone();
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::internal(format!("cannot open the agent binary: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::HeaderName::from_static("x-checksum-sha256"), sha),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"zkpool\"".to_string(),
            ),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}
