//! The names a Golem 1.5 executor records host calls under, defined once.
//! Read from golemcloud/golem v1.5.9: `HostFunctionName`'s pairs in
//! `golem-common/src/model/oplog/payload/mod.rs`, displayed as
//! `interface::function`, and the `Durability::new` call of each host
//! function under `golem-worker-executor/src/durable_host/`.

pub(crate) const KV_GET: &str = "keyvalue::eventual::get";
pub(crate) const KV_SET: &str = "keyvalue::eventual::set";
pub(crate) const KV_DELETE: &str = "keyvalue::eventual::delete";
pub(crate) const KV_EXISTS: &str = "keyvalue::eventual::exists";
pub(crate) const KV_GET_MANY: &str = "keyvalue::eventual_batch::get_many";
pub(crate) const KV_KEYS: &str = "keyvalue::eventual_batch::get_keys";
pub(crate) const KV_SET_MANY: &str = "keyvalue::eventual_batch::set_many";
pub(crate) const KV_DELETE_MANY: &str = "keyvalue::eventual_batch::delete_many";

pub(crate) const BLOB_CREATE_CONTAINER: &str = "blobstore::blobstore::create_container";
pub(crate) const BLOB_GET_CONTAINER: &str = "blobstore::blobstore::get_container";
pub(crate) const BLOB_DELETE_CONTAINER: &str = "blobstore::blobstore::delete_container";
pub(crate) const BLOB_CONTAINER_EXISTS: &str = "blobstore::blobstore::container_exists";
pub(crate) const BLOB_COPY_OBJECT: &str = "blobstore::blobstore::copy_object";
pub(crate) const BLOB_MOVE_OBJECT: &str = "blobstore::blobstore::move_object";
pub(crate) const BLOB_GET_DATA: &str = "blobstore::container::get_data";
pub(crate) const BLOB_WRITE_DATA: &str = "blobstore::container::write_data";
/// Singular, as Golem spells it.
pub(crate) const BLOB_LIST_OBJECTS: &str = "blobstore::container::list_object";
pub(crate) const BLOB_DELETE_OBJECT: &str = "blobstore::container::delete_object";
pub(crate) const BLOB_DELETE_OBJECTS: &str = "blobstore::container::delete_objects";
pub(crate) const BLOB_HAS_OBJECT: &str = "blobstore::container::has_object";
pub(crate) const BLOB_OBJECT_INFO: &str = "blobstore::container::object_info";
pub(crate) const BLOB_CLEAR: &str = "blobstore::container::clear";
/// Not found among Golem's durable functions; named in its style.
pub(crate) const BLOB_CONTAINER_INFO: &str = "blobstore::container::info";

pub(crate) const WALL_CLOCK_NOW: &str = "wall_clock::now";
pub(crate) const MONOTONIC_CLOCK_NOW: &str = "monotonic_clock::now";
pub(crate) const SUBSCRIBE_DURATION: &str = "monotonic_clock::subscribe_duration";
pub(crate) const CREATE_PROMISE: &str = "golem::api::create_promise";
pub(crate) const COMPLETE_PROMISE: &str = "golem::api::complete_promise";
pub(crate) const GET_PROMISE_RESULT: &str = "golem::api::get_promise_result";
pub(crate) const RANDOM_BYTES: &str = "random::get_random_bytes";
pub(crate) const RANDOM_U64: &str = "random::get_random_u64";
pub(crate) const INSECURE_RANDOM_BYTES: &str = "random::insecure::get_insecure_random_bytes";
pub(crate) const INSECURE_RANDOM_U64: &str = "random::insecure::get_insecure_random_u64";
pub(crate) const INSECURE_SEED: &str = "random::insecure_seed::insecure_seed";

/// Underscore and hyphen mixed, verbatim.
pub(crate) const GENERATE_IDEMPOTENCY_KEY: &str = "golem::api::generate_idempotency-key";
pub(crate) const GET_SELF_METADATA: &str = "golem::api::get_self_metadata";
pub(crate) const GET_AGENT_METADATA: &str = "golem::api::get_agent_metadata";
pub(crate) const UPDATE_AGENT: &str = "golem::api::update_worker";
pub(crate) const REVERT_AGENT: &str = "golem::api::revert_worker";
pub(crate) const FORK_AGENT: &str = "golem::api::fork_worker";
pub(crate) const FORK: &str = "golem::api::fork";
/// Golem does not journal enumerations; the testkit does (see
/// docs/golem-fidelity.md), under a name in Golem's style.
pub(crate) const GET_AGENTS: &str = "golem::api::get_agents";

pub(crate) const RPC_INVOKE_AND_AWAIT: &str = "golem::rpc::wasm-rpc::invoke_and_await";
pub(crate) const RPC_INVOKE: &str = "golem::rpc::wasm-rpc::invoke";
/// Both `schedule-invocation` and `schedule-cancelable-invocation`.
pub(crate) const RPC_SCHEDULE_INVOCATION: &str = "golem::rpc::wasm-rpc::schedule_invocation";
pub(crate) const RPC_CANCEL_SCHEDULED: &str = "golem::rpc::cancellation-token::cancel";
/// One entry per `get` of the future.
pub(crate) const RPC_FUTURE_GET: &str = "golem::rpc::future-invoke-result::get";
/// Recorded when an RPC client is made.
pub(crate) const GET_AGENT_TYPE: &str = "golem::agent::get_agent_type";
/// Not journaled; names the draws of RPC idempotency keys.
pub(crate) const RPC_IDEMPOTENCY_KEY: &str = "golem::rpc::idempotency-key";

/// Not journaled by Golem (its begin-remote-write stands for it); names the
/// draws of `handle`.
pub(crate) const HTTP_HANDLE: &str = "http::outgoing_handler::handle";
pub(crate) const HTTP_RESPONSE_GET: &str = "http::types::future_incoming_response::get";
pub(crate) const HTTP_TRAILERS_GET: &str = "http::types::future_trailers::get";
pub(crate) const HTTP_BODY_READ: &str = "http::types::incoming_body_stream::read";
pub(crate) const HTTP_BODY_BLOCKING_READ: &str = "http::types::incoming_body_stream::blocking_read";
pub(crate) const HTTP_BODY_SKIP: &str = "http::types::incoming_body_stream::skip";
pub(crate) const HTTP_BODY_BLOCKING_SKIP: &str = "http::types::incoming_body_stream::blocking_skip";
pub(crate) const HTTP_BODY_CHECK_WRITE: &str = "http::types::outgoing_body_stream::check_write";
/// Also what `blocking-write-and-flush` is recorded as.
pub(crate) const HTTP_BODY_WRITE: &str = "http::types::outgoing_body_stream::write";
pub(crate) const HTTP_BODY_FLUSH: &str = "http::types::outgoing_body_stream::flush";
pub(crate) const HTTP_BODY_BLOCKING_FLUSH: &str = "http::types::outgoing_body_stream::blocking_flush";
pub(crate) const HTTP_BODY_WRITE_ZEROES: &str = "http::types::outgoing_body_stream::write_zeroes";

pub(crate) const POLL: &str = "io::poll::poll";
pub(crate) const POLL_READY: &str = "io::poll::pollable::ready";
