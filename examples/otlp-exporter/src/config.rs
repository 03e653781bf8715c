//! The installation's configuration: where to export, with which headers,
//! what to call the service, which signals.

/// Which signals are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signals {
    pub traces: bool,
    pub logs: bool,
}

/// How `service.name` is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceName {
    /// `{component id}/{agent id}` (the default).
    AgentId,
    /// The agent type: the agent id up to its constructor arguments.
    AgentType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The collector's base URL; `/v1/traces` and `/v1/logs` are appended.
    pub endpoint: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    pub service_name: ServiceName,
    pub signals: Signals,
}

impl Config {
    /// The configuration from the installation's parameters: `None` when no
    /// `endpoint` is set (the plugin then exports nothing).
    pub fn from_params(params: &[(String, String)]) -> Result<Option<Config>, String> {
        let get = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim());
        let Some(endpoint) = get("endpoint") else { return Ok(None) };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!("`endpoint` must be an http:// or https:// URL, not `{endpoint}`"));
        }
        let headers = match get("headers") {
            None => Vec::new(),
            Some(text) => text
                .split(',')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
                    _ => Err(format!("`headers` must be `name=value` pairs separated by commas, not `{pair}`")),
                })
                .collect::<Result<_, _>>()?,
        };
        let service_name = match get("service-name-mode") {
            None | Some("agent-id") => ServiceName::AgentId,
            Some("agent-type") => ServiceName::AgentType,
            Some(other) => return Err(format!("`service-name-mode` is `agent-id` or `agent-type`, not `{other}`")),
        };
        let signals = match get("signals") {
            None => Signals { traces: true, logs: false },
            Some(list) => {
                let mut signals = Signals { traces: false, logs: false };
                for name in list.split(',').map(str::trim) {
                    match name {
                        "traces" => signals.traces = true,
                        "logs" => signals.logs = true,
                        "metrics" => return Err("`metrics` are not exported by this plugin".to_string()),
                        other => return Err(format!("`signals` lists `traces` and `logs`, not `{other}`")),
                    }
                }
                signals
            }
        };
        Ok(Some(Config { endpoint: endpoint.trim_end_matches('/').to_string(), headers, service_name, signals }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_export_traces_named_by_agent_id() {
        let config = Config::from_params(&params(&[("endpoint", "http://127.0.0.1:4318/")])).unwrap().unwrap();
        assert_eq!(config.endpoint, "http://127.0.0.1:4318");
        assert_eq!(config.signals, Signals { traces: true, logs: false });
        assert_eq!(config.service_name, ServiceName::AgentId);
        assert!(Config::from_params(&[]).unwrap().is_none(), "no endpoint: nothing to do");
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |pairs: &[(&str, &str)]| Config::from_params(&params(pairs)).unwrap_err();
        assert!(bad(&[("endpoint", "collector:4318")]).contains("`collector:4318`"));
        assert!(bad(&[("endpoint", "http://c"), ("headers", "a=1,b")]).contains("not `b`"));
        assert!(bad(&[("endpoint", "http://c"), ("signals", "traces,spans")]).contains("not `spans`"));
        assert!(bad(&[("endpoint", "http://c"), ("service-name-mode", "x")]).contains("not `x`"));
    }
}
