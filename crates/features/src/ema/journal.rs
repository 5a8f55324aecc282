//! What a caller hooks into a refresh: a record written inside each symbol's own transaction
//! ([`CommitJournal`]), and a callback as each symbol ends ([`RefreshWatch`]).
//!
//! A caller that keeps a log of what a refresh committed (the CLI's run table, so that a run
//! killed half-way can say which symbols it finished) must never log a symbol whose rows were not
//! committed, nor miss one whose rows were. Written as a separate transaction after the commit,
//! the log can trail the data: a kill between the two left a committed symbol reported as "not
//! finished". A [`CommitJournal`] writes in the same transaction, just before it commits, so the
//! log line and the rows are committed together or not at all.

use std::sync::Arc;

use async_trait::async_trait;
use talab_db::{DbError, Tx};

use super::request::{SymbolOutcome, SymbolRefresh};

/// Records a symbol's refresh inside its transaction (see the module docs).
#[async_trait]
pub trait CommitJournal: Send + Sync {
    /// Called once per symbol, after its rows are written and before the commit; an error rolls
    /// the symbol back (its refresh fails with it).
    async fn record(&self, tx: &mut Tx, refresh: &SymbolRefresh) -> Result<(), DbError>;
}

/// Called as each symbol of a refresh ends (in the order the symbols were given), outside any
/// transaction: a progress bar, a log of failures.
pub type SymbolDone = dyn Fn(&SymbolOutcome) + Send + Sync;

/// What a caller hooks into a refresh (both optional).
#[derive(Clone, Default)]
pub struct RefreshWatch {
    /// Written in each symbol's transaction.
    pub journal: Option<Arc<dyn CommitJournal>>,
    /// Told of each symbol as it ends.
    pub on_symbol: Option<Arc<SymbolDone>>,
}

impl RefreshWatch {
    pub(crate) fn symbol_done(&self, outcome: &SymbolOutcome) {
        if let Some(f) = &self.on_symbol {
            f(outcome);
        }
    }
}
