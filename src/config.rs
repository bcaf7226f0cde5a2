//! Configuration: where the database and config file live, and the settings read from the
//! config file. Nothing needs configuring to start: every setting has a default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::access::{AccessConfig, Policy};
use crate::domain::text::display_path;
use crate::domain::{CategoryCatalog, CategoryDef, DomainError};
use crate::notify::{Contact, SmtpSettings, TemplateError, TemplateSet};

/// A problem with the configuration, naming the file.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", display_path(.path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: {message}", display_path(.path))]
    Parse { path: PathBuf, message: String },
    #[error("config file {}: {source}", display_path(.path))]
    Invalid { path: PathBuf, source: DomainError },
    #[error("cannot find your {0} directory (is HOME set?); pass --db and --config")]
    NoHome(&'static str),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The settings in `config.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Extra data categories: `[[category]]` tables with `name` and `description`.
    #[serde(default, rename = "category")]
    pub categories: Vec<CategoryDef>,
    #[serde(default)]
    pub hooks: HookSettings,
    #[serde(default)]
    pub smtp: SmtpSettings,
    /// Who letters tell people to contact.
    #[serde(default)]
    pub contact: Contact,
    /// Roles: `admins`, `responders` and `viewers`. Without this section the local user is
    /// admin and nobody else has a role.
    #[serde(default)]
    pub access: Option<AccessConfig>,
    #[serde(default)]
    pub daemon: DaemonSettings,
    /// Internal targets and extra or replaced jurisdiction rules.
    #[serde(default)]
    pub deadlines: crate::deadlines::DeadlineConfig,
    /// The daemon's socket: when set, every command goes through the daemon.
    #[serde(default)]
    pub remote: Option<PathBuf>,
    #[serde(default)]
    pub audit: AuditSettings,
    #[serde(default)]
    pub retention: RetentionSettings,
    #[serde(default)]
    pub store: StoreSettings,
    /// Where on-call alerts go: `[[alert]]` tables.
    #[serde(default, rename = "alert")]
    pub alert: Vec<crate::alerts::Destination>,
    /// When deadlines and bounces become alerts.
    #[serde(default)]
    pub alerts: crate::alerts::AlertSettings,
}

/// Where the database is, when it is not the embedded one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// A PostgreSQL database shared by several daemons, `postgres://user@host/db`; `--db`
    /// given on the command line wins.
    #[serde(default)]
    pub url: Option<String>,
}

/// How long the tracker keeps an incident's personal data once the incident is closed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days after an incident is closed until `incident purge --due` (and the daemon, once
    /// an hour) destroys its roster, letters and evidence.
    #[serde(default = "RetentionSettings::default_days_after_close")]
    pub days_after_close: u32,
}

impl RetentionSettings {
    fn default_days_after_close() -> u32 {
        365
    }
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            days_after_close: Self::default_days_after_close(),
        }
    }
}

/// Where the audit witness lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// The witness file (relative paths from the config file's directory); by default
    /// `audit-witness` beside the key file.
    #[serde(default)]
    pub witness: Option<PathBuf>,
}

/// How `breachdesk serve` shares its socket, and how much it lets clients make it read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSettings {
    /// The group that owns the socket (mode 0660); without it the socket is 0600.
    #[serde(default)]
    pub group: Option<String>,
    /// Seconds a client has to send a whole frame once its first byte has arrived, and to
    /// send its first request after connecting; a client that does not is cut off.
    #[serde(default = "DaemonSettings::default_frame_deadline_secs")]
    pub frame_deadline_secs: u64,
    /// MiB of large requests (over 64 KiB) the daemon reads or answers at once, over all
    /// clients; a frame that would pass it is refused as "daemon busy".
    #[serde(default = "DaemonSettings::default_frame_budget_mib")]
    pub frame_budget_mib: u64,
}

impl DaemonSettings {
    fn default_frame_deadline_secs() -> u64 {
        30
    }

    /// One largest request (a 64 MiB roster import) and 32 MiB for upload chunks and other
    /// large requests at the same time.
    fn default_frame_budget_mib() -> u64 {
        96
    }

    /// The frame deadline as a duration; at least one second.
    pub fn frame_deadline(&self) -> Duration {
        Duration::from_secs(self.frame_deadline_secs.max(1))
    }

    /// The budget for large requests read or answered at once, in bytes.
    pub fn frame_budget(&self) -> usize {
        usize::try_from(self.frame_budget_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            group: None,
            frame_deadline_secs: DaemonSettings::default_frame_deadline_secs(),
            frame_budget_mib: DaemonSettings::default_frame_budget_mib(),
        }
    }
}

/// How programme hooks run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSettings {
    /// How long a pause or resume hook may run before it is killed.
    #[serde(default = "HookSettings::default_timeout")]
    pub timeout_secs: u64,
    /// Environment variables passed on to hooks besides `PATH`, `HOME` and `LANG`. The
    /// database key and the SMTP password never are, whatever this says.
    #[serde(default)]
    pub pass_env: Vec<String>,
}

impl HookSettings {
    fn default_timeout() -> u64 {
        30
    }

    /// The time limit as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings {
            timeout_secs: HookSettings::default_timeout(),
            pass_env: Vec::new(),
        }
    }
}

/// A loaded configuration with what follows from it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub catalog: CategoryCatalog,
    pub templates: TemplateSet,
    /// The roles of `[access]`; `None` when the section is absent.
    pub roles: Option<Policy>,
    /// The jurisdiction rules in force.
    pub rules: crate::deadlines::RuleBook,
}

impl Settings {
    /// Defaults only, as on a fresh install.
    #[allow(
        clippy::expect_used,
        reason = "the built-in templates are compiled in and tested"
    )]
    pub fn defaults() -> Self {
        Settings {
            config: Config::default(),
            catalog: CategoryCatalog::default(),
            templates: TemplateSet::built_in().expect("the built-in templates compile"),
            roles: None,
            rules: crate::deadlines::RuleBook::default(),
        }
    }

    /// Loads `path`; a missing file is an error only when `required` (the user named it).
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        let overrides = path.parent().map(|d| d.join("templates"));
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                let templates = TemplateSet::load(overrides.as_deref())?;
                return Ok(Settings {
                    templates,
                    ..Settings::defaults()
                });
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mut settings = Settings::parse(&text, path)?;
        settings.templates = TemplateSet::load(overrides.as_deref())?;
        // Like the witness, `ca_file` is read from the config file's directory, whatever
        // directory the daemon or the command was started in.
        if let (Some(ca_file), Some(dir)) = (&mut settings.config.smtp.ca_file, path.parent()) {
            *ca_file = dir.join(&*ca_file);
        }
        Ok(settings)
    }

    /// Parses config text; `path` names it in errors.
    #[allow(clippy::expect_used, reason = "a fixed, valid user name")]
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let catalog = CategoryCatalog::with_extra(&config.categories).map_err(|source| {
            ConfigError::Invalid {
                path: path.to_owned(),
                source,
            }
        })?;
        let roles = match &config.access {
            Some(access) => {
                let placeholder = crate::domain::UserName::parse("root").expect("valid name");
                Some(
                    Policy::from_config(Some(access), &placeholder).map_err(|source| {
                        ConfigError::Invalid {
                            path: path.to_owned(),
                            source,
                        }
                    })?,
                )
            }
            None => None,
        };
        let mut names = std::collections::BTreeSet::new();
        for dest in &config.alert {
            let problem = dest.problem().or_else(|| {
                (!names.insert(dest.name.clone()))
                    .then(|| format!("two [[alert]] destinations are named '{}'", dest.name))
            });
            if let Some(message) = problem {
                return Err(ConfigError::Parse {
                    path: path.to_owned(),
                    message,
                });
            }
        }
        let rules = crate::deadlines::RuleBook::with_config(&config.deadlines)
            .map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?
            .with_catalog(&catalog);
        Ok(Settings {
            config,
            catalog,
            templates: TemplateSet::built_in()?,
            roles,
            rules,
        })
    }
}

/// The default database directory: `breachdesk/` under the user's data directory.
pub fn default_db_dir() -> Result<PathBuf, ConfigError> {
    dirs::data_dir()
        .map(|d| d.join("breachdesk"))
        .ok_or(ConfigError::NoHome("data"))
}

/// Where this machine keeps its send journal for the PostgreSQL database at `url` (the
/// journal notes letters a mail server accepted before they are committed; see
/// `store/journal.rs`): `breachdesk-postgres/<hash of host, port and database>` under the
/// user's data directory, so that a change of password keeps the same one.
pub fn postgres_local_dir(url: &str) -> Result<PathBuf, ConfigError> {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(crate::store::describe_url(url).as_bytes());
    let name: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    dirs::data_dir()
        .map(|d| d.join("breachdesk-postgres").join(name))
        .ok_or(ConfigError::NoHome("data"))
}

/// The default config file: `breachdesk/config.toml` under the user's config directory.
pub fn default_config_file() -> Result<PathBuf, ConfigError> {
    dirs::config_dir()
        .map(|d| d.join("breachdesk").join("config.toml"))
        .ok_or(ConfigError::NoHome("config"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_categories_and_hook_timeout() {
        let text = "[[category]]\nname = \"badge-swipes\"\ndescription = \"entries\"\n[hooks]\ntimeout_secs = 5\n";
        let s = Settings::parse(text, Path::new("c.toml")).unwrap();
        assert!(s.catalog.parse("badge-swipes").is_ok());
        assert_eq!(s.config.hooks.timeout(), Duration::from_secs(5));
    }

    #[test]
    fn daemon_limits_have_defaults_and_can_be_set() {
        let s = Settings::parse("", Path::new("c.toml")).unwrap();
        assert_eq!(s.config.daemon.frame_deadline(), Duration::from_secs(30));
        assert_eq!(s.config.daemon.frame_budget(), 96 << 20);
        let text = "[daemon]\nframe_deadline_secs = 0\nframe_budget_mib = 1\n";
        let s = Settings::parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(s.config.daemon.frame_deadline(), Duration::from_secs(1));
        assert_eq!(s.config.daemon.frame_budget(), 1 << 20);
    }

    #[test]
    fn audit_witness_path() {
        let s = Settings::parse("[audit]\nwitness = \"/srv/w\"\n", Path::new("c.toml")).unwrap();
        assert_eq!(s.config.audit.witness, Some(PathBuf::from("/srv/w")));
    }

    #[test]
    fn typos_are_named() {
        let err = Settings::parse("[hooks]\ntimeout = 5\n", Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown field `timeout`"), "{err}");
    }
}
