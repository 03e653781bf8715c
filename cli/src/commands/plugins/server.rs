//! The plugin host behind `reprise plugins --serve`: its HTTP API.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use reprise_testkit::plugins::directory::{ManifestOutcome, ManifestReport};
use reprise_testkit::{Environment, LoadedComponent};
use serde_json::{Value as Json, json};

use super::{Guard, guard, report_json};
use crate::CliResult;
use crate::calls;
use crate::error::{CliError, one_line};

/// The plugin host behind the API.
pub struct Server {
    env: Environment,
    /// The plugin folder: where components are loaded from.
    root: PathBuf,
    /// Component files outside the folder that may be loaded too (`--allow`).
    allowed: Vec<PathBuf>,
    /// What became of each manifest, as last scanned.
    manifests: Mutex<BTreeMap<PathBuf, ManifestOutcome>>,
    /// Agent components by file, at their newest revision.
    components: Mutex<BTreeMap<PathBuf, LoadedComponent>>,
    /// Agents created through the API, with the component file they run.
    agents: Mutex<BTreeMap<String, PathBuf>>,
}

/// Why a component did not load, without quoting the file's contents.
fn load_error(path: &Path, e: &reprise_testkit::Error) -> String {
    use reprise_testkit::inspect::InspectError;
    let why = match e {
        reprise_testkit::Error::Inspect(InspectError::NotWasm { .. }) => "it is not WebAssembly".to_string(),
        other => one_line(&other.to_string()),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!("cannot load component `{name}`: {why}")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An API error: status and message.
type ApiResult = Result<(StatusCode, Json), (StatusCode, String)>;

fn bad(message: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message.into())
}

fn field<'a>(body: &'a Json, name: &str) -> Result<&'a str, (StatusCode, String)> {
    body.get(name).and_then(Json::as_str).ok_or_else(|| bad(format!("the request needs a string field `{name}`")))
}

impl Server {
    pub fn new(env: Environment, root: PathBuf, allowed: Vec<PathBuf>, reports: &[ManifestReport]) -> Arc<Server> {
        Arc::new(Server {
            env,
            root,
            allowed,
            manifests: Mutex::new(reports.iter().map(|r| (r.manifest.clone(), r.outcome.clone())).collect()),
            components: Mutex::new(BTreeMap::new()),
            agents: Mutex::new(BTreeMap::new()),
        })
    }

    /// Record what a rescan of the folder made of a manifest.
    pub fn manifest_changed(&self, report: ManifestReport) {
        lock(&self.manifests).insert(report.manifest, report.outcome);
    }

    fn plugins(&self) -> ApiResult {
        let listing: Vec<Json> = lock(&self.manifests)
            .iter()
            .map(|(manifest, outcome)| {
                report_json(&ManifestReport { manifest: manifest.clone(), outcome: outcome.clone() })
            })
            .collect();
        Ok((StatusCode::OK, Json::Array(listing)))
    }

    /// The newest revision of the agent component in `path` (relative to the
    /// plugin folder, and inside it), loaded on first use; with the file it
    /// resolved to.
    fn component(&self, path: &str) -> Result<(PathBuf, LoadedComponent), (StatusCode, String)> {
        let path = self.inside_root(path)?;
        let mut components = lock(&self.components);
        if let Some(c) = components.get(&path) {
            return Ok((path, c.clone()));
        }
        let component = self.env.load(&path).map_err(|e| bad(load_error(&path, &e)))?;
        components.insert(path.clone(), component.clone());
        Ok((path, component))
    }

    /// `path` resolved in the plugin folder; anything resolving outside it
    /// (an absolute path elsewhere, `..`, a link out) is refused unless
    /// `--allow` named it, so the API cannot be made to open other files.
    fn inside_root(&self, path: &str) -> Result<PathBuf, (StatusCode, String)> {
        let outside = || bad(format!("component `{path}` is not a file in the plugin folder (nor allowed by --allow)"));
        let resolved = self.root.join(path).canonicalize().map_err(|_| outside())?;
        let permitted = resolved.starts_with(&self.root) || self.allowed.contains(&resolved);
        if permitted && resolved.is_file() { Ok(resolved) } else { Err(outside()) }
    }

    fn install(&self, body: &Json) -> ApiResult {
        let path = field(body, "component")?;
        let plugin = field(body, "plugin")?;
        let version = field(body, "version")?;
        let config: Vec<(String, String)> = match body.get("config") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Object(map)) => map
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|v| (k.clone(), v.to_string()))
                        .ok_or_else(|| bad(format!("config `{k}` must be a string")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("`config` must be an object of strings")),
        };
        let (file, component) = self.component(path)?;
        let revision = self.env.install_plugin(&component, plugin, version, config).map_err(|e| bad(e.to_string()))?;
        lock(&self.components).insert(file, revision.clone());
        Ok((
            StatusCode::OK,
            json!({"component": path, "revision": revision.revision(), "plugin": plugin, "version": version}),
        ))
    }

    fn create_agent(&self, body: &Json) -> ApiResult {
        let path = field(body, "component")?;
        let (file, component) = self.component(path)?;
        let (definition, args) = calls::agent(&component, field(body, "agent")?).map_err(|e| bad(e.inline()))?;
        let handle = self
            .env
            .connect_agent(&component, &definition.type_name, &args)
            .map_err(|e| bad(one_line(&e.to_string())))?;
        let id = handle.id().to_string();
        lock(&self.agents).insert(id.clone(), file);
        let active: Vec<String> = handle.lock().active_plugins().iter().map(|p| p.plugin_name.clone()).collect();
        Ok((StatusCode::CREATED, json!({"agent": id, "revision": component.revision(), "active_plugins": active})))
    }

    fn invoke(&self, body: &Json) -> ApiResult {
        let id = field(body, "agent")?;
        let (handle, _) = self.agent(id)?;
        let definition = handle.lock().definition().cloned().ok_or_else(|| bad(format!("`{id}` is not an agent")))?;
        let call = calls::method(&definition, field(body, "call")?).map_err(|e| bad(e.inline()))?;
        let result = handle.lock().invoke(&call.name, &call.args);
        match result {
            Ok(values) => {
                Ok((StatusCode::OK, json!({"result": calls::render_results(&values, call.results.as_deref())})))
            }
            Err(e) => Err((StatusCode::UNPROCESSABLE_ENTITY, one_line(&e.to_string()))),
        }
    }

    fn set_active(&self, body: &Json, active: bool) -> ApiResult {
        let id = field(body, "agent")?;
        let plugin = field(body, "plugin")?;
        let (handle, component) = self.agent(id)?;
        let installation = component
            .plugin(plugin)
            .ok_or_else(|| {
                bad(format!("plugin `{plugin}` is not installed to the agent's component (POST /install first)"))
            })?
            .clone();
        let mut agent = handle.lock();
        let done = if active { agent.activate_plugin(&installation) } else { agent.deactivate_plugin(&installation) };
        done.map_err(|e| bad(e.to_string()))?;
        let now: Vec<String> = agent.active_plugins().iter().map(|p| p.plugin_name.clone()).collect();
        Ok((StatusCode::OK, json!({"agent": id, "active_plugins": now})))
    }

    /// An agent created through the API and its component's newest revision.
    fn agent(&self, id: &str) -> Result<(reprise_testkit::AgentHandle, LoadedComponent), (StatusCode, String)> {
        let not_found = || (StatusCode::NOT_FOUND, format!("no agent `{id}` (create it with POST /agents)"));
        let path = lock(&self.agents).get(id).cloned().ok_or_else(not_found)?;
        let handle = self.env.agent_handle(id).ok_or_else(not_found)?;
        let component = lock(&self.components).get(&path).cloned().ok_or_else(not_found)?;
        Ok((handle, component))
    }

    fn route(&self, method: &Method, path: &str, body: &[u8]) -> Result<(StatusCode, Json), (StatusCode, String)> {
        let json_body = || -> Result<Json, (StatusCode, String)> {
            serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))
        };
        match (method, path) {
            (&Method::GET, "/plugins") => self.plugins(),
            (&Method::POST, "/install") => self.install(&json_body()?),
            (&Method::POST, "/agents") => self.create_agent(&json_body()?),
            (&Method::POST, "/invoke") => self.invoke(&json_body()?),
            (&Method::POST, "/activate") => self.set_active(&json_body()?, true),
            (&Method::POST, "/deactivate") => self.set_active(&json_body()?, false),
            (_, "/plugins" | "/install" | "/agents" | "/invoke" | "/activate" | "/deactivate" | "/metrics") => {
                Err((StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not allowed on {path}")))
            }
            _ => Err((StatusCode::NOT_FOUND, format!("no endpoint {path}; see `reprise plugins --help`"))),
        }
    }
}

pub fn serve_http(addr: SocketAddr, state: Arc<Server>, token: Option<String>) -> CliResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the HTTP server: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            CliError::input(format!("cannot listen on {addr}: {e}")).hint("pick another port, or 0 for any free one")
        })?;
        let local = listener.local_addr().map_err(|e| CliError::failed(e.to_string()))?;
        let guard = Arc::new(Guard::new(local, token));
        println!("serving the plugin host on http://{local} (GET /plugins, POST /install /agents /invoke /activate /deactivate, GET /metrics)");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (state, guard) = (state.clone(), guard.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(state.clone(), guard.clone(), req));
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    })
}

async fn handle(
    state: Arc<Server>,
    guard: Arc<Guard>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let result = match guard.check(&method, req.headers()) {
        Err(refusal) => Err(refusal),
        // Read no more than the limit, whatever the length header said.
        Ok(()) => match Limited::new(req.into_body(), guard::BODY_LIMIT).collect().await {
            Ok(body) => Ok(body.to_bytes()),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(guard::too_large()),
            Err(e) => Err((StatusCode::BAD_REQUEST, format!("cannot read the body: {e}"))),
        },
    };
    let response = match result {
        Ok(_) if (&method, path.as_str()) == (&Method::GET, "/metrics") => {
            let text = state.env.plugin_metrics_prometheus();
            Response::builder().header("content-type", "text/plain; version=0.0.4").body(Full::new(Bytes::from(text)))
        }
        Ok(body) => {
            // Loading components and running agents block: off the I/O thread.
            let result = tokio::task::spawn_blocking(move || state.route(&method, &path, &body))
                .await
                .unwrap_or_else(|e| Err((StatusCode::INTERNAL_SERVER_ERROR, format!("the request failed: {e}"))));
            json_response(result)
        }
        Err(refusal) => json_response(Err(refusal)),
    };
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"internal error")))))
}

fn json_response(result: ApiResult) -> Result<Response<Full<Bytes>>, hyper::http::Error> {
    let (status, json) = match result {
        Ok((status, json)) => (status, json),
        Err((status, message)) => (status, json!({ "error": message })),
    };
    let mut response = Response::builder().status(status).header("content-type", "application/json");
    if status == StatusCode::UNAUTHORIZED {
        response = response.header("www-authenticate", "Bearer");
    }
    response.body(Full::new(Bytes::from(serde_json::to_string_pretty(&json).unwrap_or_default())))
}
