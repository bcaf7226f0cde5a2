//! `breachdesk init`, `completions` and `man`: setting up, before any database is opened.
//!
//! `init` asks a few questions (or takes flags with `--non-interactive`), writes an annotated
//! config that breachdesk itself then parses back (so a value it would refuse is refused
//! here, before the file exists), tries the mail server, and lists what the letters still
//! lack.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory as _;

use super::args::Cli;
use super::args::{InitArgs, InitTls, SetupCommand};
use super::{CliError, Invocation};
use crate::config::Settings;
use crate::domain::Email;
use crate::domain::text::display_path;

pub fn run(
    cmd: SetupCommand,
    invocation: &Invocation,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    match cmd {
        SetupCommand::Completions { shell } => {
            // Into a buffer first: the generator panics on a write error (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "breachdesk", &mut script);
            out.write_all(&script)?;
            Ok(ExitCode::SUCCESS)
        }
        SetupCommand::Man { dir: None, .. } => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(ExitCode::SUCCESS)
        }
        SetupCommand::Man {
            dir: Some(dir),
            force,
        } => write_man_pages(&dir, force, out),
        SetupCommand::Init(args) => init(*args, invocation, input, out),
    }
}

/// One page per command into `dir`: every page rendered first, then (without `force`)
/// refused whole if any is there already, then each written new, never through a link.
fn write_man_pages(dir: &Path, force: bool, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    fn pages(cmd: clap::Command, into: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            pages(sub, into)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page)?;
        into.push((man.get_filename(), page));
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut rendered = Vec::new();
    pages(cmd, &mut rendered)?;
    std::fs::create_dir_all(dir)?;
    if !force {
        let there: Vec<&str> = rendered
            .iter()
            .filter(|(name, _)| std::fs::symlink_metadata(dir.join(name)).is_ok())
            .map(|(name, _)| name.as_str())
            .collect();
        if let Some(first) = there.first() {
            return Err(CliError::User(format!(
                "{} already holds {first} ({} of the {} pages are there); nothing written: choose an empty directory, or --force to replace them",
                display_path(dir),
                there.len(),
                rendered.len()
            )));
        }
    }
    let existing = if force {
        crate::files::Existing::ReplaceRegular
    } else {
        crate::files::Existing::Refuse
    };
    for (name, page) in &rendered {
        crate::files::write_file(&dir.join(name), page, 0o644, existing)
            .map_err(|e| CliError::User(e.to_string()))?;
    }
    writeln!(
        out,
        "{} manual pages written to {}",
        rendered.len(),
        display_path(dir)
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Answers to `init`'s questions: from a flag, else asked (with a default), else the default.
struct Answers<'a> {
    interactive: bool,
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
}

impl Answers<'_> {
    /// `flag` if given; else, interactively, the answer to `question` (Enter keeps
    /// `default`); else `default`.
    fn ask(
        &mut self,
        flag: Option<String>,
        question: &str,
        default: &str,
    ) -> Result<String, CliError> {
        if let Some(value) = flag {
            return Ok(value.trim().to_owned());
        }
        if !self.interactive {
            return Ok(default.to_owned());
        }
        if default.is_empty() {
            write!(self.out, "{question}: ")?;
        } else {
            write!(self.out, "{question} [{default}]: ")?;
        }
        self.out.flush()?;
        let mut line = String::new();
        self.input.read_line(&mut line)?;
        let line = line.trim();
        Ok(if line.is_empty() {
            default.to_owned()
        } else {
            line.to_owned()
        })
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `key = "value"`, or the line commented out with `hint` when the value is empty.
fn setting(key: &str, value: &str, hint: &str) -> String {
    if value.is_empty() {
        format!("# {key} = \"\"    # {hint}\n")
    } else {
        format!("{key} = {}\n", quoted(value))
    }
}

fn list(users: &[String]) -> String {
    let items: Vec<String> = users.iter().map(|u| quoted(u)).collect();
    format!("[{}]", items.join(", "))
}

fn init(
    args: InitArgs,
    invocation: &Invocation,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<ExitCode, CliError> {
    let path = &invocation.config;
    if std::fs::symlink_metadata(path).is_ok() && !args.force {
        return Err(CliError::User(format!(
            "{} exists; edit it, or run `breachdesk init --force` to replace it",
            display_path(path)
        )));
    }
    let mut a = Answers {
        interactive: !args.non_interactive,
        input,
        out,
    };
    if a.interactive {
        writeln!(
            a.out,
            "Setting up {} (Enter keeps the value in brackets).",
            display_path(path)
        )?;
    }
    let name = a.ask(
        args.contact_name,
        "Who letters come from (team or company)",
        "The Privacy Team",
    )?;
    let email = a.ask(
        args.contact_email,
        "Where people write with questions (email)",
        "",
    )?;
    if email.is_empty() {
        return Err(CliError::User(
            "a contact email is required (--contact-email): letters tell people where to write"
                .into(),
        ));
    }
    Email::parse(&email).map_err(|e| CliError::User(format!("--contact-email: {e}")))?;
    let dpo = a.ask(args.dpo, "Data protection officer (name and email)", "")?;
    let phone = a.ask(args.phone, "Phone", "")?;
    let toll_free = a.ask(args.toll_free, "Toll-free number (HIPAA letters)", "")?;
    let postal = a.ask(args.postal_address, "Postal address", "")?;
    let web = a.ask(args.web, "Web page about the incident", "")?;
    let host = a.ask(
        args.smtp_host,
        "Mail server (the company relay)",
        "127.0.0.1",
    )?;
    let tls = match args.tls {
        Some(tls) => tls,
        None => {
            let default = if host == "127.0.0.1" || host == "localhost" {
                "none"
            } else {
                "starttls"
            };
            let answer = a.ask(None, "TLS: starttls, tls or none", default)?;
            <InitTls as clap::ValueEnum>::from_str(&answer, true).map_err(|_| {
                CliError::User(format!("TLS must be starttls, tls or none, not '{answer}'"))
            })?
        }
    };
    let port = match args.smtp_port {
        Some(port) => port,
        None => {
            let answer = a.ask(None, "Port", &tls.default_port().to_string())?;
            answer
                .parse()
                .map_err(|_| CliError::User(format!("the port must be a number, not '{answer}'")))?
        }
    };
    let from = a.ask(args.from, "Letters' sender", &format!("{name} <{email}>"))?;
    let user = a.ask(args.smtp_user, "Mail server login (empty: none)", "")?;
    let password_env = if user.is_empty() {
        String::new()
    } else {
        a.ask(
            args.password_env,
            "Environment variable holding its password",
            "SMTP_PASSWORD",
        )?
    };
    let me = crate::identity::current_user().to_string();
    let admins = if args.admins.is_empty() {
        let answer = a.ask(
            None,
            "Admins (operating-system users, comma-separated)",
            &me,
        )?;
        answer
            .split(',')
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect()
    } else {
        args.admins
    };
    let text = config_text(&ConfigAnswers {
        name: &name,
        email: &email,
        dpo: &dpo,
        phone: &phone,
        toll_free: &toll_free,
        postal: &postal,
        web: &web,
        host: &host,
        port,
        tls,
        from: &from,
        user: &user,
        password_env: &password_env,
        admins: &admins,
        responders: &args.responders,
    });
    // Parsed as breachdesk will parse it: a bad sender or user name is refused now.
    let settings = Settings::parse(&text, path)?;
    crate::notify::Sender::new(&from, None, None)
        .map_err(|e| CliError::User(format!("the sender '{from}': {e}")))?;
    write_config(path, &text, args.force)?;
    let out = a.out;
    writeln!(out, "wrote {}", display_path(path))?;
    if args.no_test {
        writeln!(
            out,
            "mail server not tried (--no-test): run `breachdesk notify test-smtp`"
        )?;
    } else {
        let tried = crate::notify::SmtpClient::new(&settings.config.smtp)
            .map_err(|e| e.to_string())
            .and_then(|mut c| c.check().map_err(|e| e.to_string()));
        match tried {
            Ok(info) => writeln!(out, "mail server: connected to {info}")?,
            Err(e) => writeln!(
                out,
                "mail server: {e}\n  letters cannot be sent until this works; fix [smtp] in {} and run `breachdesk notify test-smtp`",
                display_path(path)
            )?,
        }
    }
    let missing = settings
        .rules
        .missing_contact(|field| settings.config.contact.has(field));
    let needed =
        |m: &&crate::deadlines::MissingContact| m.stand_in.is_none() && m.only_when.is_none();
    let mut fields: Vec<&str> = missing
        .iter()
        .filter(needed)
        .map(|m| m.field.as_str())
        .collect();
    fields.dedup();
    if fields.is_empty() {
        writeln!(
            out,
            "letters: every contact detail the rules ask for is set"
        )?;
    } else {
        for m in missing.iter().filter(needed) {
            writeln!(
                out,
                "still missing: [contact] {} (rule {} requires its letters to give {})",
                m.field, m.rule, m.element
            )?;
        }
    }
    writeln!(
        out,
        "next: `breachdesk template check` renders every letter; `breachdesk` opens the terminal UI"
    )?;
    Ok(ExitCode::SUCCESS)
}

struct ConfigAnswers<'a> {
    name: &'a str,
    email: &'a str,
    dpo: &'a str,
    phone: &'a str,
    toll_free: &'a str,
    postal: &'a str,
    web: &'a str,
    host: &'a str,
    port: u16,
    tls: InitTls,
    from: &'a str,
    user: &'a str,
    password_env: &'a str,
    admins: &'a [String],
    responders: &'a [String],
}

/// The annotated config file.
fn config_text(c: &ConfigAnswers<'_>) -> String {
    let mut t = String::from(
        "# breachdesk configuration, written by `breachdesk init`. Every setting is explained\n\
         # in the README (\"Configuration\"); `breachdesk template check` shows what letters lack.\n\n\
         # Who letters tell people to contact. Some laws require particular details: GDPR\n\
         # Art. 34 the DPO or a contact point, HIPAA a toll-free number.\n[contact]\n",
    );
    t.push_str(&setting("name", c.name, ""));
    t.push_str(&setting("email", c.email, ""));
    t.push_str(&setting("dpo", c.dpo, "GDPR Art. 34 letters name the DPO"));
    t.push_str(&setting("phone", c.phone, "a phone number for questions"));
    t.push_str(&setting(
        "toll_free",
        c.toll_free,
        "HIPAA letters need a toll-free number",
    ));
    t.push_str(&setting(
        "postal_address",
        c.postal,
        "where people may write",
    ));
    t.push_str(&setting("web", c.web, "a web page about the incident"));
    t.push_str(
        "\n# The mail server letters go through: the company's relay. Add `ca_file` when its\n\
         # certificate is issued by an internal CA, and `bounce_address` to read bounces back\n\
         # (`breachdesk notify bounces`).\n[smtp]\n",
    );
    t.push_str(&setting("host", c.host, ""));
    t.push_str(&format!("port = {}\n", c.port));
    t.push_str(&setting("tls", c.tls.as_str(), ""));
    t.push_str(&setting("from", c.from, ""));
    t.push_str(&setting(
        "username",
        c.user,
        "log in to the relay as this user",
    ));
    t.push_str(&setting(
        "password_env",
        c.password_env,
        "the variable holding the password (never write the password here)",
    ));
    t.push_str("# ca_file = \"/etc/ssl/certs/corp-ca.pem\"\n");
    t.push_str("# bounce_address = \"bounces@corp.example\"\n");
    t.push_str(
        "\n# Who may do what, by operating-system user name. Admins register hooks, purge and\n\
         # see everything; responders work incidents (their personal data only as owner or\n\
         # member); viewers see the board and counts.\n[access]\n",
    );
    t.push_str(&format!("admins = {}\n", list(c.admins)));
    t.push_str(&format!("responders = {}\n", list(c.responders)));
    t.push_str("viewers = []\n");
    t
}

/// Writes the config file (mode 0600, its directory 0700 if made): a new file, or with
/// `force` a regular file replaced whole through a temporary one, so that a failure leaves
/// the old one whole; never through a link.
fn write_config(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    use std::os::unix::fs::DirBuilderExt as _;
    let shown = display_path(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| CliError::Failure(format!("cannot write {shown}: {e}")))?;
    }
    let existing = if force {
        crate::files::Existing::ReplaceRegular
    } else {
        crate::files::Existing::Refuse
    };
    match crate::files::write_file(path, text.as_bytes(), 0o600, existing) {
        Ok(()) => Ok(()),
        Err(crate::files::WriteError::Create(_, e))
            if e.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            Err(CliError::User(format!(
                "{shown} appeared meanwhile; not replaced"
            )))
        }
        Err(e @ crate::files::WriteError::Create(..)) => Err(CliError::User(e.to_string())),
        Err(e) => Err(CliError::Failure(e.to_string())),
    }
}
