//! `config show`'s view of the configuration: each key of the table with its value as it may be
//! printed (secrets masked, credentials cut out of URLs), where it came from, and which variable
//! or flag set it.

use std::collections::BTreeMap;

use super::keys::keys;
use super::schema::{Key, Kind};
use super::{Config, Origin, Setting, ShownSetting};

/// Every key `config show` lists: all of them, but quota and routing keys only when set.
pub(super) fn entries(config: &Config) -> BTreeMap<String, ShownSetting> {
    keys()
        .iter()
        .map(|key| (key, shown(key, config)))
        .filter(|(key, shown)| key.always_shown || shown.value.is_some())
        .map(|(key, shown)| (key.name.clone(), shown))
        .collect()
}

/// One key as it may be printed.
pub(super) fn shown(key: &Key, config: &Config) -> ShownSetting {
    match &key.kind {
        Kind::Text(place) | Kind::Choice { place, .. } => show(place.get(config), String::clone),
        // Base URLs as `status` shows them: no user, password or query (`?token=`).
        Kind::Url(place) => show(place.get(config), |u| talab_orchestrator::display_url(u)),
        Kind::DatabaseUrl(place) => show(place.get(config), |u| {
            match talab_db::DatabaseLocation::parse(u) {
                Ok(location) => location.to_string(),
                Err(_) => "(invalid URL)".to_string(),
            }
        }),
        Kind::Secret(place) => show(place.get(config), ToString::to_string),
        Kind::Path(place) => show(place.get(config), |p| p.display().to_string()),
        Kind::Zone(place) => show(place.get(config), |tz| tz.name().to_string()),
        Kind::Count { place, .. } => show(place.get(config), u64::to_string),
        Kind::Dollars(place) => show(place.get(config), f64::to_string),
        Kind::Routing(task_type) => ShownSetting {
            value: config.routing.get(task_type).map(|platforms| {
                let order: Vec<&str> = platforms.iter().map(|p| p.as_str()).collect();
                order.join(", ")
            }),
            origin: Origin::File,
            source: config.file.as_ref().map(|p| p.display().to_string()),
        },
    }
}

fn show<T>(setting: &Setting<T>, print: impl Fn(&T) -> String) -> ShownSetting {
    ShownSetting {
        value: setting.value.as_ref().map(print),
        origin: setting.origin,
        source: setting.source.clone(),
    }
}
