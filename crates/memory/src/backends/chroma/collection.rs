//! Opening the store's collection: the checks every open makes before anything is written.
//!
//! The tenant and the database must exist (Chroma answers a listing in a missing tenant with an
//! empty list, so without the check a typo would look like an empty store). A collection that
//! exists must be talab's (its metadata records the embedder: `talab.embedder_name`,
//! `talab.embedder_revision`, `talab.dim`), of this embedder, with cosine distance, and its
//! vectors (Chroma's `dimension`, once it holds any) of the recorded length; otherwise the open
//! is refused and nothing is changed. A missing collection is created with `get_or_create`, so
//! concurrent first opens get the same one, with `hnsw.space = cosine` in its configuration
//! (Chroma 1.x's place for it; the space cannot be changed later).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::client::{Client, Failure};
use crate::{EmbedderIdentity, MemoryError};

const EMBEDDER_NAME: &str = "talab.embedder_name";
const EMBEDDER_REVISION: &str = "talab.embedder_revision";
const DIM: &str = "talab.dim";

/// What Chroma says about a collection (the parts read here).
#[derive(Deserialize)]
struct CollectionInfo {
    id: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    configuration_json: Option<Value>,
    #[serde(default)]
    dimension: Option<u64>,
}

/// Makes sure the tenant and database exist and the collection `name` holds `identity`'s
/// vectors (creating it when missing); returns its id.
pub async fn open(client: &Client, name: &str, identity: &EmbedderIdentity) -> Result<String, MemoryError> {
    check_place(client).await?;
    let info = match client
        .call::<CollectionInfo>(Method::GET, &format!("/collections/{name}"), None)
        .await
    {
        Ok(info) => info,
        Err(Failure::Status(404, _)) => create(client, name, identity).await?,
        Err(other) => return Err(client.explain(other)),
    };
    check(client, name, &info, identity)?;
    Ok(info.id)
}

/// Refuses a missing tenant or database, saying which.
async fn check_place(client: &Client) -> Result<(), MemoryError> {
    let (tenant, database) = (client.tenant(), client.database());
    match client
        .get_root::<Value>(&format!("/api/v2/tenants/{tenant}"))
        .await
    {
        Ok(_) => {}
        Err(Failure::Status(404, _)) => {
            return Err(client.fail(format!(
                "the server has no tenant {tenant}; create it (Chroma's client: \
                 AdminClient().create_tenant) or name an existing one (the default is default_tenant)"
            )));
        }
        Err(other) => return Err(client.explain(other)),
    }
    match client.call::<Value>(Method::GET, "", None).await {
        Ok(_) => Ok(()),
        Err(Failure::Status(404, _)) => Err(client.fail(format!(
            "tenant {tenant} has no database {database}; create it (Chroma's client: \
             AdminClient().create_database) or name an existing one (the default is default_database)"
        ))),
        Err(other) => Err(client.explain(other)),
    }
}

async fn create(
    client: &Client,
    name: &str,
    identity: &EmbedderIdentity,
) -> Result<CollectionInfo, MemoryError> {
    let body = json!({
        "name": name,
        "get_or_create": true,
        "configuration": { "hnsw": { "space": "cosine" } },
        "metadata": {
            EMBEDDER_NAME: identity.name,
            EMBEDDER_REVISION: identity.revision,
            DIM: identity.dim,
        },
    });
    client.expect(Method::POST, "/collections", Some(&body)).await
}

/// Refuses a collection that is not talab's, or holds another embedder's vectors.
fn check(
    client: &Client,
    name: &str,
    info: &CollectionInfo,
    identity: &EmbedderIdentity,
) -> Result<(), MemoryError> {
    let foreign = |why: String| {
        client.fail(format!(
            "collection {name} exists but is not a talab memory store ({why}); choose another \
             collection name (nothing was changed)"
        ))
    };
    let metadata = info.metadata.clone().unwrap_or_default();
    let text = |key: &str| metadata.get(key).and_then(Value::as_str).map(str::to_string);
    let stored = match (
        text(EMBEDDER_NAME),
        text(EMBEDDER_REVISION),
        metadata.get(DIM).and_then(Value::as_u64),
    ) {
        (Some(name), Some(revision), Some(dim)) => EmbedderIdentity {
            name,
            revision,
            dim: dim as usize,
        },
        _ => return Err(foreign("its metadata names no talab embedder".into())),
    };
    let space = info
        .configuration_json
        .as_ref()
        .and_then(|c| c.pointer("/hnsw/space"))
        .and_then(Value::as_str);
    if space.is_some_and(|s| s != "cosine") {
        return Err(foreign(format!(
            "its distance is {}, not cosine",
            space.unwrap_or_default()
        )));
    }
    if let Some(dimension) = info.dimension
        && dimension as usize != stored.dim
    {
        return Err(foreign(format!(
            "its vectors have {dimension} dimensions, not the recorded {}",
            stored.dim
        )));
    }
    if &stored != identity {
        return Err(client.fail(crate::backends::another_embedder(
            "collection",
            name,
            &stored,
            identity,
        )));
    }
    Ok(())
}
