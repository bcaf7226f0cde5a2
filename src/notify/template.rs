//! Letter templates: Jinja syntax (minijinja), with no access to files or the environment.
//! The defaults in `templates/` are compiled in; a file of the same name in the config
//! directory's `templates/` replaces one. Each template has three parts: a subject, a plain
//! text body and an HTML body (auto-escaped).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::context::LetterContext;
use crate::deadlines::LetterElement;

/// The templates breachdesk ships, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TemplateName {
    Initial,
    Update,
    Resolution,
    StakeholderBrief,
}

impl TemplateName {
    pub const ALL: [TemplateName; 4] = [
        TemplateName::Initial,
        TemplateName::Update,
        TemplateName::Resolution,
        TemplateName::StakeholderBrief,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateName::Initial => "initial",
            TemplateName::Update => "update",
            TemplateName::Resolution => "resolution",
            TemplateName::StakeholderBrief => "stakeholder-brief",
        }
    }

    /// What the template is for.
    pub fn purpose(self) -> &'static str {
        match self {
            TemplateName::Initial => "first notice to an affected person",
            TemplateName::Update => "progress update to an affected person",
            TemplateName::Resolution => "closing letter to an affected person",
            TemplateName::StakeholderBrief => "internal summary for legal and privacy staff",
        }
    }

    /// Whether it goes to the affected people (rather than to named staff).
    pub fn is_for_people(self) -> bool {
        self != TemplateName::StakeholderBrief
    }

    fn defaults(self) -> [&'static str; 3] {
        match self {
            TemplateName::Initial => [
                include_str!("../../templates/initial.subject.txt"),
                include_str!("../../templates/initial.txt"),
                include_str!("../../templates/initial.html"),
            ],
            TemplateName::Update => [
                include_str!("../../templates/update.subject.txt"),
                include_str!("../../templates/update.txt"),
                include_str!("../../templates/update.html"),
            ],
            TemplateName::Resolution => [
                include_str!("../../templates/resolution.subject.txt"),
                include_str!("../../templates/resolution.txt"),
                include_str!("../../templates/resolution.html"),
            ],
            TemplateName::StakeholderBrief => [
                include_str!("../../templates/stakeholder-brief.subject.txt"),
                include_str!("../../templates/stakeholder-brief.txt"),
                include_str!("../../templates/stakeholder-brief.html"),
            ],
        }
    }
}

impl fmt::Display for TemplateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TemplateName {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TemplateName::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| TemplateError::Unknown(s.to_owned()))
    }
}

/// The three parts of a template, by file suffix.
const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

/// Translations shipped with breachdesk: template, language, and its three parts.
const TRANSLATIONS: [(TemplateName, &str, [&str; 3]); 5] = [
    (
        TemplateName::Initial,
        "de",
        [
            include_str!("../../templates/initial.de.subject.txt"),
            include_str!("../../templates/initial.de.txt"),
            include_str!("../../templates/initial.de.html"),
        ],
    ),
    (
        TemplateName::Initial,
        "es",
        [
            include_str!("../../templates/initial.es.subject.txt"),
            include_str!("../../templates/initial.es.txt"),
            include_str!("../../templates/initial.es.html"),
        ],
    ),
    (
        TemplateName::Initial,
        "fr",
        [
            include_str!("../../templates/initial.fr.subject.txt"),
            include_str!("../../templates/initial.fr.txt"),
            include_str!("../../templates/initial.fr.html"),
        ],
    ),
    (
        TemplateName::Initial,
        "ja",
        [
            include_str!("../../templates/initial.ja.subject.txt"),
            include_str!("../../templates/initial.ja.txt"),
            include_str!("../../templates/initial.ja.html"),
        ],
    ),
    (
        TemplateName::Initial,
        "pt",
        [
            include_str!("../../templates/initial.pt.subject.txt"),
            include_str!("../../templates/initial.pt.txt"),
            include_str!("../../templates/initial.pt.html"),
        ],
    ),
];

/// A rendered letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The letter elements each part declared with `element(...)` (not stored: only the
    /// check before queuing reads them).
    #[serde(skip)]
    pub marks: Marks,
    /// The language it was written in (`en` when no translation fit the person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The elements a letter's text and HTML parts declare (`{{ element("what-you-can-do") }}`
/// inside the section that gives it; it renders as nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    pub text: BTreeSet<LetterElement>,
    pub html: BTreeSet<LetterElement>,
}

thread_local! {
    /// The elements declared so far by the part being rendered on this thread, while one is.
    static MARKS: RefCell<Option<BTreeSet<LetterElement>>> = const { RefCell::new(None) };
}

/// The template function `element(name)`: notes that the part being rendered gives the
/// element `name`, and renders nothing. An unknown name is an error naming the known ones.
fn declare_element(name: &str) -> Result<String, minijinja::Error> {
    let element = LetterElement::parse(name).ok_or_else(|| {
        let known: Vec<&str> = LetterElement::ALL.iter().map(|e| e.as_str()).collect();
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "unknown letter element '{name}'; known: {}",
                known.join(", ")
            ),
        )
    })?;
    MARKS.with(|marks| {
        if let Some(marks) = marks.borrow_mut().as_mut() {
            marks.insert(element);
        }
    });
    Ok(String::new())
}

/// A template that failed to load or render.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error(
        "unknown template '{0}'; templates are: initial, update, resolution, stakeholder-brief"
    )]
    Unknown(String),
    #[error(
        "cannot read template override {}: {reason}",
        crate::domain::text::display_path(.path)
    )]
    Read { path: PathBuf, reason: String },
    #[error("template {file}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Render {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error(
        "template {file}: the subject must be one line of at most 998 characters without control characters"
    )]
    BadSubject { file: String },
    #[error(
        "translation '{language}' is incomplete: {missing} missing (each language needs the subject, text and HTML parts)"
    )]
    IncompleteTranslation { language: String, missing: String },
    #[error("template {file}: the rendered body is larger than 1 MiB")]
    TooLarge { file: String },
}

/// Where a template part came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    BuiltIn,
    Override(PathBuf),
}

/// The loaded templates.
pub struct TemplateSet {
    env: Environment<'static>,
    sources: Vec<(String, Source)>,
    /// (template, language) of every translation.
    languages: BTreeSet<(String, String)>,
}

impl fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateSet")
            .field("sources", &self.sources)
            .finish()
    }
}

impl Clone for TemplateSet {
    fn clone(&self) -> Self {
        TemplateSet {
            env: self.env.clone(),
            sources: self.sources.clone(),
            languages: self.languages.clone(),
        }
    }
}

impl TemplateSet {
    /// The built-in templates only.
    pub fn built_in() -> Result<Self, TemplateError> {
        // Compiled once per process: every command loads settings, few render a letter.
        static BUILT_IN: std::sync::OnceLock<Result<TemplateSet, TemplateError>> =
            std::sync::OnceLock::new();
        BUILT_IN.get_or_init(|| TemplateSet::compile(None)).clone()
    }

    /// The built-in templates, with any of `dir/NAME.subject.txt`, `dir/NAME.txt` and
    /// `dir/NAME.html` replacing the built-in part of the same name.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        match dir.filter(|d| d.is_dir()) {
            Some(dir) => TemplateSet::compile(Some(dir)),
            None => TemplateSet::built_in(),
        }
    }

    fn compile(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_function("element", declare_element);
        let mut sources = Vec::new();
        // One part: the file of that name in `dir` if there is one, else `default`.
        let mut add = |file: String, default: Option<&str>| -> Result<bool, TemplateError> {
            let path = dir.map(|d| d.join(&file)).filter(|p| p.is_file());
            let (text, source) = match (path, default) {
                (Some(path), _) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| TemplateError::Read {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                    (text, Source::Override(path))
                }
                (None, Some(default)) => (default.to_owned(), Source::BuiltIn),
                (None, None) => return Ok(false),
            };
            env.add_template_owned(file.clone(), text)
                .map_err(|e| render_error(&file, &e))?;
            sources.push((file, source));
            Ok(true)
        };
        for name in TemplateName::ALL {
            for (suffix, default) in PARTS.iter().zip(name.defaults()) {
                add(format!("{name}.{suffix}"), Some(default))?;
            }
        }
        let mut languages = BTreeSet::new();
        for (name, lang, defaults) in TRANSLATIONS {
            for (suffix, default) in PARTS.iter().zip(defaults) {
                add(format!("{name}.{lang}.{suffix}"), Some(default))?;
            }
            languages.insert((name.to_string(), lang.to_owned()));
        }
        // Translations that exist only in `dir` (`NAME.LANG.txt`), each with all its parts.
        for (name, lang) in translations_in(dir)? {
            if languages.contains(&(name.to_string(), lang.clone())) {
                continue;
            }
            let mut missing = Vec::new();
            for suffix in PARTS {
                if !add(format!("{name}.{lang}.{suffix}"), None)? {
                    missing.push(format!("{name}.{lang}.{suffix}"));
                }
            }
            if !missing.is_empty() {
                return Err(TemplateError::IncompleteTranslation {
                    language: lang,
                    missing: missing.join(", "),
                });
            }
            languages.insert((name.to_string(), lang));
        }
        Ok(TemplateSet {
            env,
            sources,
            languages,
        })
    }

    /// The languages `name` is translated into (English, the original, not counted).
    pub fn languages(&self, name: TemplateName) -> Vec<&str> {
        self.languages
            .iter()
            .filter(|(n, _)| n == name.as_str())
            .map(|(_, l)| l.as_str())
            .collect()
    }

    /// Each template part and where it came from.
    pub fn sources(&self) -> &[(String, Source)] {
        &self.sources
    }

    /// Renders all three parts of `name` for one recipient.
    pub fn render(&self, name: TemplateName, ctx: &LetterContext) -> Result<Letter, TemplateError> {
        let value = ctx.value();
        // The person's language if the template is translated into it, else English.
        let language = ctx
            .person
            .language
            .as_deref()
            .map(|tag| tag.split('-').next().unwrap_or(tag))
            .filter(|l| {
                self.languages
                    .contains(&(name.to_string(), (*l).to_owned()))
            });
        let prefix = match language {
            Some(l) => format!("{name}.{l}"),
            None => name.to_string(),
        };
        let part = |suffix: &str| -> Result<String, TemplateError> {
            let file = format!("{prefix}.{suffix}");
            let template = self
                .env
                .get_template(&file)
                .map_err(|e| render_error(&file, &e))?;
            let out = template
                .render(value.clone())
                .map_err(|e| render_error(&file, &e))?;
            if out.len() > 1 << 20 {
                return Err(TemplateError::TooLarge { file });
            }
            Ok(out)
        };
        let subject_file = format!("{prefix}.subject.txt");
        let subject = part("subject.txt")?.trim().to_owned();
        if subject.is_empty()
            || subject.chars().count() > 998
            || subject.chars().any(char::is_control)
        {
            return Err(TemplateError::BadSubject { file: subject_file });
        }
        // Each body part is rendered with its own set of declared elements.
        let marked = |suffix: &str| -> Result<(String, BTreeSet<LetterElement>), TemplateError> {
            MARKS.with(|m| *m.borrow_mut() = Some(BTreeSet::new()));
            let out = part(suffix);
            let marks = MARKS.with(|m| m.borrow_mut().take()).unwrap_or_default();
            Ok((out?, marks))
        };
        let (text, text_marks) = marked("txt")?;
        let (html, html_marks) = marked("html")?;
        Ok(Letter {
            subject,
            text,
            html,
            marks: Marks {
                text: text_marks,
                html: html_marks,
            },
            language: Some(language.unwrap_or("en").to_owned()),
        })
    }
}

/// The (template, language) pairs of the translation files in `dir`: `NAME.LANG.SUFFIX`
/// with LANG two or three lower-case letters.
fn translations_in(dir: Option<&Path>) -> Result<BTreeSet<(TemplateName, String)>, TemplateError> {
    let mut found = BTreeSet::new();
    let Some(dir) = dir.filter(|d| d.is_dir()) else {
        return Ok(found);
    };
    let entries = std::fs::read_dir(dir).map_err(|e| TemplateError::Read {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        for name in TemplateName::ALL {
            let Some(rest) = file.strip_prefix(&format!("{name}.")) else {
                continue;
            };
            let Some((lang, suffix)) = rest.split_once('.') else {
                continue;
            };
            let is_lang =
                (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
            if is_lang && PARTS.contains(&suffix) {
                found.insert((name, lang.to_owned()));
            }
        }
    }
    Ok(found)
}

fn render_error(file: &str, e: &minijinja::Error) -> TemplateError {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    TemplateError::Render {
        file: e.name().unwrap_or(file).to_owned(),
        line: e.line(),
        message,
    }
}
