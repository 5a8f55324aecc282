//! The command line: global flags and the commands the specs name.
//!
//! Commands whose work is not built yet still parse their arguments (so scripts can be written
//! against them) but exit 2 with "not implemented yet"; nothing claims to work before it does.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// talab: crypto price history and exact EMAs, AI task routing, and a memory of what was done.
#[derive(Debug, Parser)]
#[command(name = "talab", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: $TALAB_HOME/talab.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB (overrides TALAB_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Refresh EMAs for symbols as an orchestrated, remembered task.
    RefreshEma(Pending),
    /// Show stored EMA values for a symbol.
    Ema(Pending),
    /// Load price history: `ingest csv FILE`, `ingest synthetic --symbols …`, `ingest fetch` (not yet).
    Ingest(IngestArgs),
    /// List assets with their price coverage.
    Assets(JsonArgs),
    /// List, enable or disable timeframes.
    Timeframes(Pending),
    /// Ask a question about what was done; answered from memory.
    Ask(Pending),
    /// Run the whole flow on synthetic prices in a throw-away database.
    Demo(Pending),
    /// Add, search and manage memories.
    Memory(MemoryArgs),
    /// Run one AI task: `run "prompt" [--type] [--platform]`.
    Run(Pending),
    /// Run tasks from a JSON Lines file in parallel.
    Batch(Pending),
    /// List and show stored tasks.
    Tasks(Pending),
    /// Which AI platforms are configured and usable, and whether the database opens.
    Status(StatusArgs),
    /// Quota use per platform.
    Quota(Pending),
    /// Spending per platform, model or day.
    Costs(Pending),
    /// Show the effective configuration (secrets masked).
    Config(ConfigArgs),
    /// EMA-crossover signals: `signals refresh|list|summary`.
    Signals(SignalsArgs),
    /// Draw a price chart with EMAs and signal markers to a PNG or SVG file.
    Chart(ChartArgs),
}

/// Arguments of a command that is not built yet: accepted, so the error is "not implemented yet"
/// rather than an argument error.
#[derive(Debug, Args)]
pub struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(subcommand)]
    pub action: IngestAction,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum IngestAction {
    /// Load a CSV file: CoinMarketCap's export (`;`) or a plain OHLCV file (detected from the header).
    Csv {
        file: PathBuf,
        /// The symbol (default: the file's Symbol column, or its name matched against known assets).
        #[arg(long)]
        symbol: Option<String>,
        /// Force the format instead of detecting it: cmc or ohlcv.
        #[arg(long)]
        format: Option<String>,
        /// Load the good rows and record the bad ones as rejects, instead of refusing the file.
        #[arg(long)]
        skip_bad_rows: bool,
        /// Replace a series that came from another source.
        #[arg(long)]
        replace: bool,
    },
    /// Generate seeded synthetic prices (marked `synthetic` everywhere) for offline use.
    Synthetic {
        /// Comma-separated symbols.
        #[arg(long, value_delimiter = ',', required = true)]
        symbols: Vec<String>,
        /// Days per symbol.
        #[arg(long, default_value_t = 3650)]
        days: usize,
        /// Seed of the random walk (same seed, same prices).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First day (YYYY-MM-DD).
        #[arg(long, default_value = "2015-01-01")]
        start: chrono::NaiveDate,
        /// Replace a series that came from another source.
        #[arg(long)]
        replace: bool,
    },
    /// Fetch from CoinMarketCap or a keyless exchange (not implemented yet).
    Fetch(Pending),
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MemoryArgs {
    #[command(subcommand)]
    pub action: MemoryAction,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum MemoryAction {
    /// Store a memory (content from the argument, or from stdin when absent or `-`).
    Add {
        content: Option<String>,
        /// Metadata as key=value (repeatable); values that parse as JSON keep their type.
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
        /// A tag (repeatable); stored as metadata `tags`.
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Find memories by meaning and by words.
    Search {
        query: String,
        /// Minimum cosine similarity (default: the embedder's own threshold).
        #[arg(long)]
        threshold: Option<f32>,
        /// At most this many hits.
        #[arg(long, default_value_t = talab_memory::DEFAULT_LIMIT)]
        limit: usize,
        /// hybrid (vector + BM25), vector, or lexical.
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Only memories whose metadata has key=value (repeatable).
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
        /// Only memories with this tag (repeatable: all must match).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Only memories created on or after this date (YYYY-MM-DD, in your time zone).
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        /// Only memories created before this date (YYYY-MM-DD, in your time zone).
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
        /// Include deprecated memories.
        #[arg(long)]
        include_deprecated: bool,
    },
    /// Render memories as a prompt-ready context block, in the order given.
    Context {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Character budget; memories are never cut in the middle.
        #[arg(long, default_value_t = talab_memory::DEFAULT_CONTEXT_BUDGET)]
        budget: usize,
    },
    /// List memories, oldest first, a page at a time.
    List {
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Show one memory.
    Get { id: String },
    /// Hide a memory from searches (kept, with the reason, in its history).
    Deprecate {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Delete a memory for good (its history is kept).
    Delete { id: String },
    /// Every change of a memory.
    History { id: String },
    /// Counts and sizes of the store.
    Stats,
    /// Stale memories, missing metadata and near-duplicates.
    Health,
    /// Re-embed every memory with the current embedder (resumable).
    Reindex,
}

#[derive(Debug, Args)]
pub struct SignalsArgs {
    #[command(subcommand)]
    pub action: SignalsAction,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SignalsAction {
    /// Recompute signals from the stored daily bars and store the trades (idempotent).
    Refresh {
        /// Comma-separated symbols.
        #[arg(long, value_delimiter = ',', required = true)]
        symbols: Vec<String>,
        /// Only this signal (repeatable; default: every active one).
        #[arg(long = "signal", value_delimiter = ',')]
        signals: Vec<String>,
    },
    /// List stored trades.
    List {
        #[arg(long)]
        symbol: Option<String>,
        #[arg(long)]
        signal: Option<String>,
        /// Only open positions.
        #[arg(long)]
        open: bool,
    },
    /// Trades, win rate, P&L and max drawdown per signal.
    Summary {
        #[arg(long)]
        signal: Option<String>,
        #[arg(long)]
        symbol: Option<String>,
    },
    /// The signal definitions (dim_signals) with their params.
    Definitions,
}

#[derive(Debug, Args)]
pub struct ChartArgs {
    /// The symbol to chart.
    pub symbol: String,
    /// First day shown (YYYY-MM-DD; default: the first day with data).
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last day shown (YYYY-MM-DD; default: the last day with data).
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Timeframe of the candles and EMAs (1D, 7D, 1W_CAL_ISO, 1M_CAL …).
    #[arg(long, default_value = "1D")]
    pub tf: String,
    /// EMA periods (default: the signals' pairs, else 20,50,200).
    #[arg(long, value_delimiter = ',')]
    pub ema: Vec<usize>,
    /// Signals whose entries and exits are marked (refreshed first).
    #[arg(long, value_delimiter = ',')]
    pub signals: Vec<String>,
    /// auto (candles when they fit), candles, or line.
    #[arg(long, default_value = "auto")]
    pub style: String,
    /// auto (log when prices span over 20x), linear, or log.
    #[arg(long, default_value = "auto")]
    pub scale: String,
    #[arg(long, default_value_t = 1200)]
    pub width: u32,
    #[arg(long, default_value_t = 700)]
    pub height: u32,
    /// Output file: .png or .svg.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print every setting, its value (secrets masked) and where it came from.
    Show {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Print the path of the configuration file talab reads.
    Path,
}

impl Command {
    /// The command's name as typed, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::RefreshEma(_) => "refresh-ema",
            Command::Ema(_) => "ema",
            Command::Ingest(_) => "ingest",
            Command::Assets(_) => "assets",
            Command::Timeframes(_) => "timeframes",
            Command::Ask(_) => "ask",
            Command::Demo(_) => "demo",
            Command::Memory(_) => "memory",
            Command::Run(_) => "run",
            Command::Batch(_) => "batch",
            Command::Tasks(_) => "tasks",
            Command::Status(_) => "status",
            Command::Quota(_) => "quota",
            Command::Costs(_) => "costs",
            Command::Config(_) => "config",
            Command::Signals(_) => "signals",
            Command::Chart(_) => "chart",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn pending_commands_accept_their_future_arguments() {
        let cli = Cli::try_parse_from(["talab", "refresh-ema", "--symbols", "BTC,ETH", "--full"]).unwrap();
        assert_eq!(cli.command.name(), "refresh-ema");
    }
}
