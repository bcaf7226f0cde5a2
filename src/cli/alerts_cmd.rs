//! `alerts send | list | test`: on-call alerts from the command line.

use std::process::ExitCode;

use super::args::AlertsCommand;
use super::output::{self, safe, short_time};
use super::{CliError, Context};

pub fn alerts(ctx: &mut Context<'_>, cmd: AlertsCommand) -> Result<ExitCode, CliError> {
    match cmd {
        AlertsCommand::Send => {
            let round = ctx.desk.send_alerts()?;
            if round.recorded > 0 {
                writeln!(ctx.out, "{} deadline alerts recorded", round.recorded)?;
            }
            for (name, n) in &round.sent {
                writeln!(ctx.out, "{name}: {n} alerts delivered")?;
            }
            for (name, why) in &round.failed {
                writeln!(ctx.err, "{name}: failed: {} (retried later)", safe(why))?;
            }
            if round.sent.is_empty() && round.failed.is_empty() {
                writeln!(ctx.out, "nothing to deliver")?;
            }
            Ok(if round.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AlertsCommand::List { failed, json } => {
            let states: Vec<_> = ctx
                .desk
                .alert_states()?
                .into_iter()
                .filter(|s| !failed || s.failing())
                .collect();
            if json {
                output::json(ctx.out, &states)?;
                return Ok(ExitCode::SUCCESS);
            }
            if states.is_empty() {
                writeln!(
                    ctx.out,
                    "{}",
                    if failed {
                        "no destination is failing"
                    } else {
                        "no [[alert]] destinations in the config"
                    }
                )?;
            }
            for s in &states {
                let last = s
                    .last_sent_at
                    .map_or_else(|| "never".to_owned(), |t| format!("{} UTC", short_time(t)));
                write!(
                    ctx.out,
                    "{:<20} {:>6} sent (last {last}), {:>5} pending",
                    s.name, s.sent, s.pending
                )?;
                if s.failing() {
                    write!(
                        ctx.out,
                        ", FAILING ({} in a row; next try {}): {}",
                        s.failures,
                        s.next_try
                            .map_or_else(|| "now".to_owned(), |t| format!("{} UTC", short_time(t))),
                        safe(s.last_error.as_deref().unwrap_or(""))
                    )?;
                }
                writeln!(ctx.out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        AlertsCommand::Test { name } => {
            let answer = ctx.desk.test_alert(name)?;
            writeln!(ctx.out, "{}", safe(&answer))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
