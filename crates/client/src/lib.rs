//! Typed client of the node's HTTP API. One [`Client`] per access key.

mod settlement;

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zkpool_types::api::{
    BlobStored, CreateKeyRequest, CreatedKey, ErrorBody, FailureReport, Heartbeat, HeartbeatAck,
    Hello, LeaseGrant, LeaseRequest, ReportKind, ResultAccepted, Role, StatusView, SubmitRequest,
    Submitted, TaskView, Welcome,
};
use zkpool_types::{BlobHash, FencingToken, KeyId, LeaseId, ProverId, TaskId, TaskSpec};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node answered with an API error.
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's stable code.
        code: String,
        /// The API's message.
        message: String,
        /// How long the node asked the client to wait (`Retry-After`, on 429 and 503).
        retry_after: Option<Duration>,
    },
    /// The node could not be reached or the connection broke.
    #[error("cannot reach the pool at {url}: {source}")]
    Transport {
        /// The URL called.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// The answer was not what the API promises.
    #[error("unexpected answer from the pool: {0}")]
    Decode(String),
    /// The pool URL is not a valid URL.
    #[error("invalid pool URL {0:?}: expected e.g. http://127.0.0.1:7070")]
    BadUrl(String),
}

impl ClientError {
    /// True when retrying later may succeed: the node is away, overloaded (503), or this key
    /// is past its request budget (429).
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport { .. } => true,
            ClientError::Api { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// How long the node asked to wait before the next try, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The API's error code, if the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A connection to one pool with one key, through one node or several replicas of it.
///
/// Given several URLs (`http://a:7070,http://b:7070`), the client talks to one at a time and
/// moves to the next when a call cannot reach it or it answers that it is unavailable (502,
/// 503, 504); the call fails all the same and the caller retries it as it would any
/// retryable error, now through the next replica. Leases and fencing tokens live in the
/// pool's database, so a lease taken through one replica is heartbeated and its proof
/// uploaded through another.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    bases: std::sync::Arc<[String]>,
    current: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    key: String,
}

impl Client {
    /// A client for the pool at `base` (e.g. `http://127.0.0.1:7070`, or several replicas'
    /// URLs separated by commas) using `key`.
    pub fn new(base: &str, key: &str) -> Result<Self, ClientError> {
        let mut bases = Vec::new();
        for b in base.split(',').map(str::trim).filter(|b| !b.is_empty()) {
            let b = b.trim_end_matches('/').to_string();
            if !(b.starts_with("http://") || b.starts_with("https://")) || b.len() < 10 {
                return Err(ClientError::BadUrl(b));
            }
            bases.push(b);
        }
        if bases.is_empty() {
            return Err(ClientError::BadUrl(base.to_string()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ClientError::Transport {
                url: bases[0].clone(),
                source: e,
            })?;
        Ok(Self {
            http,
            bases: bases.into(),
            current: Default::default(),
            key: key.to_string(),
        })
    }

    /// The base URL calls go to now.
    pub fn base(&self) -> &str {
        let i = self.current.load(std::sync::atomic::Ordering::Relaxed);
        &self.bases[i % self.bases.len()]
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Moves to the next replica after `url` failed, unless another call already moved on.
    fn fail_over(&self, url: &str) {
        use std::sync::atomic::Ordering;
        if self.bases.len() < 2 {
            return;
        }
        let i = self.current.load(Ordering::Relaxed);
        let base = &self.bases[i % self.bases.len()];
        if !url.starts_with(base.as_str()) {
            return;
        }
        let next = (i + 1) % self.bases.len();
        if self
            .current
            .compare_exchange(i, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            tracing::warn!(from = %base, to = %self.bases[next], "pool replica unavailable; failing over");
        }
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<reqwest::Response, ClientError> {
        let resp = match req.bearer_auth(&self.key).send().await {
            Ok(resp) => resp,
            Err(e) => {
                self.fail_over(url);
                return Err(ClientError::Transport {
                    url: url.to_string(),
                    source: e,
                });
            }
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        if matches!(status, 502..=504) {
            self.fail_over(url);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(b) => ClientError::Api {
                status,
                code: b.code,
                message: b.message,
                retry_after,
            },
            Err(_) => ClientError::Api {
                status,
                code: "http_error".into(),
                message: text.chars().take(300).collect(),
                retry_after,
            },
        })
    }

    async fn json<T: DeserializeOwned>(&self, resp: reqwest::Response) -> Result<T, ClientError> {
        resp.json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let resp = self.send(self.http.post(&url).json(body), &url).await?;
        self.json(resp).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = self.url(path);
        let resp = self.send(self.http.get(&url), &url).await?;
        self.json(resp).await
    }

    /// Creates an access key (admin key).
    pub async fn create_key(&self, role: Role, name: &str) -> Result<CreatedKey, ClientError> {
        self.post(
            "/v1/keys",
            &CreateKeyRequest {
                role,
                name: name.to_string(),
            },
        )
        .await
    }

    /// Revokes an access key (admin key): its next call gets 401; a prover key's leases go
    /// back to the queue. Answers the key's id, role and name as JSON.
    pub async fn revoke_key(&self, key: KeyId) -> Result<serde_json::Value, ClientError> {
        self.post(&format!("/v1/keys/{key}/revoke"), &()).await
    }

    /// True when the pool already stores this blob and this key may read it.
    pub async fn has_blob(&self, hash: &BlobHash) -> Result<bool, ClientError> {
        let url = self.url(&format!("/v1/blobs/{hash}"));
        match self.send(self.http.head(&url), &url).await {
            Ok(_) => Ok(true),
            Err(ClientError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Uploads bytes unless the pool has them already; returns their hash.
    pub async fn upload(&self, bytes: Vec<u8>) -> Result<BlobHash, ClientError> {
        let hash = BlobHash::of(&bytes);
        if self.has_blob(&hash).await? {
            return Ok(hash);
        }
        let url = self.url("/v1/blobs");
        let resp = self.send(self.http.put(&url).body(bytes), &url).await?;
        let stored: BlobStored = self.json(resp).await?;
        if stored.hash != hash {
            return Err(ClientError::Decode(format!(
                "pool stored {} for bytes hashing to {hash}",
                stored.hash
            )));
        }
        Ok(hash)
    }

    /// Uploads bytes unconditionally and returns what the pool answered (`existed`: whether
    /// this key already had them).
    pub async fn upload_raw(&self, bytes: Vec<u8>) -> Result<BlobStored, ClientError> {
        let url = self.url("/v1/blobs");
        let resp = self.send(self.http.put(&url).body(bytes), &url).await?;
        self.json(resp).await
    }

    /// Downloads a blob and checks its hash.
    pub async fn download(&self, hash: &BlobHash) -> Result<Vec<u8>, ClientError> {
        let url = self.url(&format!("/v1/blobs/{hash}"));
        let resp = self.send(self.http.get(&url), &url).await?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport { url, source: e })?;
        if BlobHash::of(&bytes) != *hash {
            return Err(ClientError::Decode(format!(
                "blob {hash} arrived corrupted"
            )));
        }
        Ok(bytes.to_vec())
    }

    /// Submits a task whose artifacts are uploaded.
    pub async fn submit(&self, spec: TaskSpec) -> Result<Submitted, ClientError> {
        self.post("/v1/tasks", &SubmitRequest { spec }).await
    }

    /// One task.
    pub async fn task(&self, id: TaskId) -> Result<TaskView, ClientError> {
        self.get(&format!("/v1/tasks/{}", id.0)).await
    }

    /// The task once it has ended, or as it is after `wait` on the node (which caps the wait),
    /// whichever comes first: one request instead of a poll loop's many.
    pub async fn task_wait(&self, id: TaskId, wait: Duration) -> Result<TaskView, ClientError> {
        let url = self.url(&format!("/v1/tasks/{}?wait_ms={}", id.0, wait.as_millis()));
        let req = self.http.get(&url).timeout(wait + Duration::from_secs(15));
        let resp = self.send(req, &url).await?;
        self.json(resp).await
    }

    /// A done task's proof bytes.
    pub async fn proof(&self, id: TaskId) -> Result<Vec<u8>, ClientError> {
        let url = self.url(&format!("/v1/tasks/{}/proof", id.0));
        let resp = self.send(self.http.get(&url), &url).await?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Transport { url, source: e })?;
        Ok(bytes.to_vec())
    }

    /// Every access key, without secrets (admin key).
    pub async fn list_keys(&self) -> Result<Vec<zkpool_types::api::KeyInfo>, ClientError> {
        self.get("/v1/keys").await
    }

    /// Who this key is (`GET /v1/me`).
    pub async fn me(&self) -> Result<zkpool_types::api::MeView, ClientError> {
        self.get("/v1/me").await
    }

    /// The Prometheus exposition of `GET /metrics` (admin key).
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let url = self.url("/metrics");
        let resp = self.send(self.http.get(&url), &url).await?;
        resp.text()
            .await
            .map_err(|e| ClientError::Transport { url, source: e })
    }

    /// Tasks and provers visible to this key.
    pub async fn status(&self) -> Result<StatusView, ClientError> {
        self.get("/v1/status").await
    }

    /// The public fleet dashboard's data (no key needed, but any key is accepted).
    pub async fn dashboard(&self) -> Result<zkpool_types::api::DashboardView, ClientError> {
        self.get("/v1/dashboard").await
    }

    /// Registers this machine as a prover.
    pub async fn hello(&self, hello: &Hello) -> Result<Welcome, ClientError> {
        self.post("/v1/provers/hello", hello).await
    }

    /// Extends the named leases; returns those no longer ours.
    pub async fn heartbeat(
        &self,
        prover: ProverId,
        leases: Vec<LeaseId>,
    ) -> Result<HeartbeatAck, ClientError> {
        self.post(
            &format!("/v1/provers/{}/heartbeat", prover.0),
            &Heartbeat { leases },
        )
        .await
    }

    /// Asks for a task, waiting up to `wait` on the node.
    pub async fn lease(
        &self,
        prover: ProverId,
        wait: Duration,
    ) -> Result<Option<LeaseGrant>, ClientError> {
        let url = self.url(&format!("/v1/provers/{}/lease", prover.0));
        let req = self
            .http
            .post(&url)
            .timeout(wait + Duration::from_secs(15))
            .json(&LeaseRequest {
                wait_ms: wait.as_millis() as u64,
            });
        let resp = self.send(req, &url).await?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        self.json(resp).await.map(Some)
    }

    /// Uploads a proof for a lease.
    pub async fn upload_result(
        &self,
        lease: LeaseId,
        token: FencingToken,
        prove_ms: u64,
        proof: Vec<u8>,
    ) -> Result<ResultAccepted, ClientError> {
        let url = self.url(&format!(
            "/v1/leases/{}/result?token={}&prove_ms={prove_ms}",
            lease.0, token.0
        ));
        let resp = self.send(self.http.post(&url).body(proof), &url).await?;
        self.json(resp).await
    }

    /// Gives a lease back with a reason.
    pub async fn report_failure(
        &self,
        lease: LeaseId,
        token: FencingToken,
        reason: &str,
        kind: ReportKind,
    ) -> Result<(), ClientError> {
        let url = self.url(&format!("/v1/leases/{}/failure", lease.0));
        let body = FailureReport {
            token: token.0,
            reason: reason.to_string(),
            kind,
        };
        self.send(self.http.post(&url).json(&body), &url).await?;
        Ok(())
    }
}
