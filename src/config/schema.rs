//! What a configuration key is: its name, the variables and flag that set it, its default, its
//! kind (how its text is read and checked, how it is shown, whether it is secret) and where its
//! value lives in [`Config`]. The table itself is in `keys.rs`; this file is its vocabulary, so
//! the table reads as data.

use std::path::PathBuf;

use chrono_tz::Tz;
use talab_orchestrator::{Platform, Secret, TaskType};

use super::{Config, Overrides, Setting};

/// One configuration key.
pub struct Key {
    /// Its dotted name, as in `talab.toml` (`[memory]` + `embed_model_dir`) and `config show`.
    pub name: String,
    /// The environment variables that set it, in order: the first set and non-blank one wins.
    pub env: Vec<String>,
    /// The global flag that sets it, if any (it beats the environment).
    pub flag: Option<Flag>,
    /// What it is when nothing sets it.
    pub fallback: Fallback,
    /// Whether `talab.toml` may set it (`home` says where the file is, so it may not).
    pub in_file: bool,
    /// Whether `config show` lists it when unset (`(not set)`); quota and routing keys are listed
    /// only when set, as twenty "(not set)" lines would hide the settings that matter.
    pub always_shown: bool,
    /// What it is for, in a few words.
    pub about: &'static str,
    /// How its value is read, checked and shown, and where it lands.
    pub kind: Kind,
}

impl Key {
    /// A key the file, and nothing else, sets; the builder methods below add the rest.
    pub fn new(name: impl Into<String>, kind: Kind, about: &'static str) -> Key {
        Key {
            name: name.into(),
            env: Vec::new(),
            flag: None,
            fallback: Fallback::None,
            in_file: true,
            always_shown: true,
            about,
            kind,
        }
    }

    /// Also set by this environment variable (after those already named).
    pub fn env(mut self, name: impl Into<String>) -> Key {
        self.env.push(name.into());
        self
    }

    /// Also set by this global flag.
    pub fn flag(mut self, name: &'static str, value: fn(&Overrides) -> Option<String>) -> Key {
        self.flag = Some(Flag { name, value });
        self
    }

    /// Its value when nothing sets it.
    pub fn fallback(mut self, fallback: Fallback) -> Key {
        self.fallback = fallback;
        self
    }

    /// Not settable in the file.
    pub fn not_in_file(mut self) -> Key {
        self.in_file = false;
        self
    }

    /// Listed by `config show` only when set.
    pub fn shown_when_set(mut self) -> Key {
        self.always_shown = false;
        self
    }

    /// Masked wherever it is shown (and warned about in a file others may read).
    pub fn secret(&self) -> bool {
        matches!(self.kind, Kind::Secret(_))
    }
}

/// A global flag that sets a key.
pub struct Flag {
    /// As typed: `--database-url`.
    pub name: &'static str,
    /// Its value in the parsed command line, if given.
    pub value: fn(&Overrides) -> Option<String>,
}

/// A key's value when nothing sets it.
pub enum Fallback {
    /// Unset.
    None,
    /// This text, read as any other.
    Fixed(&'static str),
    /// Computed from the keys resolved before it (the database under `home`) or the machine (the
    /// system's time zone); `None` leaves it unset.
    Derived(fn(&Config) -> Option<String>),
}

/// What a key holds. The variant says how its text is read and checked (`load.rs`) and shown
/// (`show.rs`); the [`Place`] says where it lands in [`Config`].
pub enum Kind {
    /// Any text.
    Text(Place<String>),
    /// A URL: shown without user, password or query, which may hold keys.
    Url(Place<String>),
    /// A database URL: shown as `talab_db` redacts it.
    DatabaseUrl(Place<String>),
    /// A secret: never shown.
    Secret(Place<Secret>),
    /// A file or folder.
    Path(Place<PathBuf>),
    /// An IANA time zone.
    Zone(Place<Tz>),
    /// A whole number, at least `at_least`; `expected` says of what, for errors ("a whole number
    /// of tokens").
    Count {
        place: Place<u64>,
        at_least: u64,
        expected: &'static str,
    },
    /// A non-negative amount of US dollars.
    Dollars(Place<f64>),
    /// One of a few words (`read`, `all`, `none`), in any case; stored in lower case.
    Choice {
        place: Place<String>,
        choices: &'static [&'static str],
    },
    /// A task type's platform order (`routing.<task_type> = ["gemini", "claude"]`), file only.
    Routing(TaskType),
}

impl Kind {
    /// What a valid value looks like, for error messages.
    pub fn expected(&self) -> String {
        match self {
            Kind::Text(_) | Kind::Url(_) | Kind::DatabaseUrl(_) | Kind::Secret(_) | Kind::Path(_) => {
                "a string".into()
            }
            Kind::Zone(_) => "an IANA time zone such as America/Los_Angeles or UTC".into(),
            Kind::Count { expected, .. } => expected.to_string(),
            Kind::Dollars(_) => "a non-negative number of US dollars".into(),
            Kind::Choice { choices, .. } => format!("one of {}", choices.join(", ")),
            Kind::Routing(_) => {
                let names: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
                format!("a list of platforms ({})", names.join(", "))
            }
        }
    }

    /// The TOML types the file may give it.
    pub fn toml(&self) -> Toml {
        match self {
            Kind::Count { .. } => Toml::Integer,
            Kind::Dollars(_) => Toml::Number,
            Kind::Routing(_) => Toml::Array,
            _ => Toml::String,
        }
    }
}

/// The TOML type a key takes in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toml {
    String,
    Integer,
    /// An integer or a float.
    Number,
    Array,
}

/// One of `choices`, in any case, as the word the table lists.
pub fn parse_choice(text: &str, choices: &[&'static str]) -> Option<String> {
    let text = text.trim();
    choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(text))
        .map(|c| c.to_string())
}

/// A whole number, as the environment or the file gives it.
pub fn parse_count(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// A finite, non-negative number of dollars.
pub fn parse_dollars(text: &str) -> Option<f64> {
    text.trim()
        .parse()
        .ok()
        .filter(|d: &f64| d.is_finite() && *d >= 0.0)
}

/// An IANA zone name (surrounding spaces ignored).
pub fn parse_zone(text: &str) -> Option<Tz> {
    text.trim().parse().ok()
}

/// A platform by its exact snake_case name, as serde reads it.
pub fn parse_platform(text: &str) -> Option<Platform> {
    Platform::ALL.iter().copied().find(|p| p.as_str() == text)
}

/// Where one key's value lives in [`Config`]: read for `config show`, written by loading.
pub struct Place<T> {
    get: Get<T>,
    get_mut: GetMut<T>,
}

/// Reads one field of [`Config`].
type Get<T> = Box<dyn for<'a> Fn(&'a Config) -> &'a Setting<T> + Send + Sync>;
/// Reaches one field of [`Config`] to write it.
type GetMut<T> = Box<dyn for<'a> Fn(&'a mut Config) -> &'a mut Setting<T> + Send + Sync>;

impl<T> Place<T> {
    /// The same field, reached for reading and for writing (see the `place!` macro in `keys.rs`).
    pub fn new(
        get: impl for<'a> Fn(&'a Config) -> &'a Setting<T> + Send + Sync + 'static,
        get_mut: impl for<'a> Fn(&'a mut Config) -> &'a mut Setting<T> + Send + Sync + 'static,
    ) -> Place<T> {
        Place {
            get: Box::new(get),
            get_mut: Box::new(get_mut),
        }
    }

    pub fn get<'a>(&self, config: &'a Config) -> &'a Setting<T> {
        (self.get)(config)
    }

    pub fn get_mut<'a>(&self, config: &'a mut Config) -> &'a mut Setting<T> {
        (self.get_mut)(config)
    }
}
