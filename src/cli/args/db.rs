//! What can be typed about the database itself: `db migrate` and `db copy`. Neither runs
//! through the desk.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create or upgrade the breachdesk tables of the PostgreSQL database named by --db (or
    /// [store] url); a directory database is upgraded when it is opened
    Migrate,
    /// Copy a whole database, sealed as it is, into a new directory or an empty PostgreSQL
    /// database, then count both sides and verify the copy's audit chain with the key
    Copy {
        /// The database to copy: a directory or postgres://user@host/db
        #[arg(long, value_name = "DIR|URL")]
        from: String,
        /// Where to copy it: a new directory or an empty PostgreSQL database (its tables
        /// are created)
        #[arg(long, value_name = "DIR|URL")]
        to: String,
    },
}
