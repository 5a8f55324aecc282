//! `talab config show|path`: the effective configuration, secrets masked, with where each value
//! came from (default, file, environment variable or flag).

use crate::app::App;
use crate::cli::{ConfigAction, ConfigArgs};
use crate::config::Origin;
use crate::exit::CliError;
use crate::output;

pub fn run(app: &App, args: ConfigArgs) -> Result<(), CliError> {
    let config = app.config();
    match args.action {
        ConfigAction::Path { json } => {
            let path = config
                .file
                .clone()
                .unwrap_or_else(|| config.home.value.clone().unwrap_or_default().join("talab.toml"));
            if json {
                return output::json(&serde_json::json!({
                    "path": path.display().to_string(),
                    "exists": path.is_file(),
                }));
            }
            println!("{}", path.display());
            Ok(())
        }
        ConfigAction::Show { json } => {
            let entries = config.entries();
            if json {
                return output::json(&serde_json::json!({
                    "file": config.file.as_ref().map(|p| p.display().to_string()),
                    "settings": entries,
                }));
            }
            let mut table = output::table(["setting", "value", "from"]);
            for (key, shown) in &entries {
                let from = match (shown.origin, &shown.source) {
                    (Origin::Default, _) if shown.value.is_none() => String::new(),
                    (Origin::Default, _) => "default".to_string(),
                    (Origin::File, _) => "file".to_string(),
                    (Origin::Env, Some(var)) => format!("env {var}"),
                    (Origin::Flag, Some(flag)) => format!("flag {flag}"),
                    (origin, _) => format!("{origin:?}").to_lowercase(),
                };
                table.add_row([
                    key.as_str(),
                    shown.value.as_deref().unwrap_or("(not set)"),
                    from.as_str(),
                ]);
            }
            match &config.file {
                Some(f) => println!("config file: {}", f.display()),
                None => println!("config file: none (talab reads $TALAB_HOME/talab.toml when it exists)"),
            }
            println!("{table}");
            Ok(())
        }
    }
}
