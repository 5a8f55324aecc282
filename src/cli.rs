//! The command line: global flags and the commands the specs name.
//!

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
    /// Refresh EMAs for symbols (incremental; `--full` rebuilds).
    RefreshEma(RefreshEmaArgs),
    /// Show stored EMA values for a symbol.
    Ema(EmaArgs),
    /// Load price history: `ingest csv FILE`, `ingest fetch --symbols …`, `ingest synthetic --symbols …`.
    Ingest(IngestArgs),
    /// List assets with their price coverage (`--hourly`: their hourly bars).
    Assets(AssetsArgs),
    /// List timeframes (`--all` for every known one), or `enable|disable TF`.
    Timeframes(TimeframesArgs),
    /// Ask a question about what was done; answered from memory and the runs table.
    Ask(AskArgs),
    /// Run the whole flow on synthetic prices in a throw-away database.
    Demo(DemoArgs),
    /// Add, search and manage memories.
    Memory(MemoryArgs),
    /// Run one AI task: `run "prompt" [--type] [--platform]`.
    Run(RunArgs),
    /// Run tasks from a JSON Lines file in parallel.
    Batch(BatchArgs),
    /// List and show stored tasks.
    Tasks(TasksArgs),
    /// Which AI platforms are configured and usable, and whether the database opens.
    Status(StatusArgs),
    /// Quota use per platform.
    Quota(JsonArgs),
    /// Spending per platform, model or day.
    Costs(CostsArgs),
    /// Show the effective configuration (secrets masked).
    Config(ConfigArgs),
    /// EMA-crossover signals: `signals refresh|list|summary`.
    Signals(SignalsArgs),
    /// Draw a price chart with EMAs and signal markers to a PNG or SVG file.
    Chart(ChartArgs),
    /// Serve the memory and the lab as MCP tools on stdin/stdout (for Claude Code, Claude Desktop,
    /// Cursor…), or over streamable HTTP with --http. Memory tools use the store's default scope
    /// ("default"), the same for writes and reads and the same as `talab memory`, unless a call
    /// names another `scope`; answers are paginated and capped at mcp.max_answer_chars (default
    /// 24000 characters of JSON).
    Mcp(McpArgs),
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve streamable HTTP on this address (at /mcp) instead of stdio, e.g. 127.0.0.1:8765. Beyond
    /// loopback it needs a token (TALAB_MCP_TOKEN, or mcp.token in the config file), which clients
    /// then send as `Authorization: Bearer TOKEN`; with one set, every request must carry it.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct RefreshEmaArgs {
    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',', required = true)]
    pub symbols: Vec<String>,
    /// Compute through this day (default: the last day with prices).
    #[arg(long, conflicts_with_all = ["start", "end"])]
    pub date: Option<chrono::NaiveDate>,
    /// With --end: report the rows of this range (EMAs always start from the first day of data).
    #[arg(long, requires = "end")]
    pub start: Option<chrono::NaiveDate>,
    /// Compute through this day.
    #[arg(long)]
    pub end: Option<chrono::NaiveDate>,
    /// Comma-separated timeframes (default: the enabled ones, see `talab timeframes`).
    #[arg(long, value_delimiter = ',')]
    pub tfs: Vec<String>,
    /// Comma-separated periods (default: 9,10,20,21,50,100,200).
    #[arg(long, value_delimiter = ',')]
    pub periods: Vec<usize>,
    /// Rebuild every series from the first day instead of rolling forward.
    #[arg(long)]
    pub full: bool,
    /// Do not fetch missing days first; use only stored prices.
    #[arg(long)]
    pub no_fetch: bool,
    /// Where to fetch missing days from (default: CMC with a key, else the exchanges).
    #[arg(long, value_enum, ignore_case = true)]
    pub source: Option<FetchSource>,
    /// Symbols refreshed at once (default: 4 on PostgreSQL, 1 on SQLite, which has one writer).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question, e.g. "what EMAs ran today" (time phrases: today, yesterday, this week, last N days,
    /// since DATE, on DATE — in your time zone).
    pub question: String,
    /// Also store the question and its answer as a memory.
    #[arg(long)]
    pub remember: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Days of synthetic prices per symbol (2 to 36,500).
    #[arg(long, default_value_t = 1000, value_parser = days_in(2))]
    pub days: usize,
    /// Keep the demo database in this folder instead of a throw-away one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Machine-readable output: one JSON object with both refreshes and the answer.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EmaArgs {
    pub symbol: String,
    /// The day to show (default: the last computed day).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub date: Option<chrono::NaiveDate>,
    /// First day of a range to show.
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last day of a range to show.
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Timeframe (any case).
    #[arg(long, default_value = "1D")]
    pub tf: String,
    /// Comma-separated periods (default: all stored).
    #[arg(long, value_delimiter = ',')]
    pub periods: Vec<u32>,
    /// How rows are printed.
    #[arg(long, value_enum, ignore_case = true, default_value_t = RowFormat::Table)]
    pub format: RowFormat,
    /// The same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
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
        /// Force the format instead of detecting it.
        #[arg(long, value_enum, ignore_case = true)]
        format: Option<CsvFormatArg>,
        /// Load the good rows and record the bad ones as rejects, instead of refusing the file.
        #[arg(long)]
        skip_bad_rows: bool,
        /// Replace a series that came from another source, or let this file change days that
        /// another file delivered.
        #[arg(long)]
        replace: bool,
        /// 1d (daily rows) or 1h (hourly rows for intraday EMAs: a plain OHLCV file whose time
        /// column holds each hour's start, e.g. 2024-03-01 13:00 or Unix seconds/milliseconds).
        #[arg(long, value_enum, default_value = "1d")]
        interval: IntervalArg,
    },
    /// Generate seeded synthetic prices (marked `synthetic` everywhere) for offline use.
    Synthetic {
        /// Comma-separated symbols.
        #[arg(long, value_delimiter = ',', required = true)]
        symbols: Vec<String>,
        /// Days per symbol (1 to 36,500: a century, not the memory of the machine).
        #[arg(long, default_value_t = 3650, value_parser = days_in(1))]
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
    /// Fetch daily prices from CoinMarketCap (with a key) or a keyless exchange (Binance, Coinbase).
    ///
    /// Without --source: CoinMarketCap when a key is configured, else Binance, then Coinbase,
    /// moving on (and saying so) when one is unavailable here. A stored series keeps its source
    /// and only days after its last day are fetched, unless --since.
    Fetch(FetchArgs),
}

#[derive(Debug, Args)]
pub struct AssetsArgs {
    /// The hourly bars (for intraday EMAs) instead of the daily prices.
    #[arg(long)]
    pub hourly: bool,
    #[arg(long)]
    pub json: bool,
}

/// The candle length `talab ingest fetch` asks for, or `talab ingest csv` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IntervalArg {
    #[value(name = "1d")]
    Day,
    #[value(name = "1h")]
    Hour,
}

impl From<IntervalArg> for talab_features::sources::Interval {
    fn from(arg: IntervalArg) -> Self {
        match arg {
            IntervalArg::Day => Self::Day,
            IntervalArg::Hour => Self::Hour,
        }
    }
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Comma-separated symbols.
    #[arg(long, value_delimiter = ',', required = true)]
    pub symbols: Vec<String>,
    /// Where to fetch from (default: the chain above).
    #[arg(long, value_enum, ignore_case = true)]
    pub source: Option<FetchSource>,
    /// First day to fetch (YYYY-MM-DD); default: the day after the stored last day, or all history.
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// Last day to fetch (YYYY-MM-DD); default and latest: yesterday (UTC), the last complete day.
    #[arg(long)]
    pub until: Option<chrono::NaiveDate>,
    /// Replace a series that came from another source.
    #[arg(long)]
    pub replace: bool,
    /// Candle length: 1d (raw prices and 1D bars) or 1h (hourly bars, for intraday EMAs such as 4H;
    /// Binance and Coinbase have them; without --since a first hourly fetch asks for 90 days).
    #[arg(long, value_enum, default_value = "1d")]
    pub interval: IntervalArg,
    /// CoinMarketCap API base URL (overrides TALAB_CMC_BASE_URL and market_data.cmc_base_url).
    #[arg(long, value_name = "URL")]
    pub cmc_base_url: Option<String>,
    /// Binance API base URL (overrides TALAB_BINANCE_BASE_URL and market_data.binance_base_url).
    #[arg(long, value_name = "URL")]
    pub binance_base_url: Option<String>,
    /// Coinbase Exchange API base URL (overrides TALAB_COINBASE_BASE_URL and market_data.coinbase_base_url).
    #[arg(long, value_name = "URL")]
    pub coinbase_base_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct TimeframesArgs {
    #[command(subcommand)]
    pub action: Option<TimeframesAction>,
    /// List every known timeframe, not only the enabled (computed by default) ones.
    #[arg(long)]
    pub all: bool,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TimeframesAction {
    /// Compute this timeframe by default (any valid code, e.g. 2W_CAL_ISO; case does not matter).
    Enable { tf: String },
    /// Stop computing this timeframe by default.
    Disable { tf: String },
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
        /// Store it in this scope instead of the default one ("default", which the refresh flow,
        /// `ask` and `talab mcp` use); duplicates are found per scope.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Find memories by meaning and by words.
    Search {
        query: String,
        /// Each mode's own threshold: for hybrid and vector the minimum cosine similarity
        /// (default: the embedder's, 0.30 for MiniLM); for lexical the minimum BM25 score as a
        /// fraction of the best match's, 0 to 1 (default 0: every memory sharing a word).
        #[arg(long, allow_negative_numbers = true)]
        threshold: Option<f32>,
        /// At most this many hits.
        #[arg(long, default_value_t = talab_memory::DEFAULT_LIMIT)]
        limit: usize,
        /// How memories are matched.
        #[arg(long, value_enum, ignore_case = true, default_value_t = ModeArg::Hybrid)]
        mode: ModeArg,
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
        /// Search this scope instead of the default one ("default").
        #[arg(long)]
        scope: Option<String>,
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
        /// Memories per page (at least 1).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
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
    /// How prices are drawn.
    #[arg(long, value_enum, ignore_case = true, default_value_t = StyleArg::Auto)]
    pub style: StyleArg,
    /// The price axis.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ScaleArg::Auto)]
    pub scale: ScaleArg,
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
pub struct RunArgs {
    /// The instruction (`-` reads it from stdin).
    pub prompt: String,
    /// The kind of work; it decides the platform order: code_generation, refactoring, research,
    /// data_analysis, documentation, code_review, sql_db_work, testing, debugging, planning.
    #[arg(long = "type", value_name = "TYPE", default_value = "research")]
    pub task_type: talab_orchestrator::TaskType,
    /// Try this platform first (claude, claude_code, chatgpt, gemini, local).
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<talab_orchestrator::Platform>,
    /// Fail instead of routing elsewhere when --platform cannot run the task.
    #[arg(long, requires = "platform")]
    pub strict: bool,
    /// Time limit of one call to a platform, in seconds (default 120).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// The local tool to run (the `local` platform runs only tasks that name one).
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Machine-readable output (the whole result).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A JSON Lines file: one task per line, e.g. {"type":"research","prompt":"…"}.
    pub file: PathBuf,
    /// At most this many tasks at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub parallel: u64,
    /// Time limit of one call to a platform, in seconds (default 120).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Machine-readable output: every result, in input order, and the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    #[command(subcommand)]
    pub action: TasksAction,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TasksAction {
    /// Stored tasks, newest first.
    List {
        /// At most this many tasks.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// Skip this many (of those matching --status).
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Only succeeded (ok) or failed tasks.
        #[arg(long, value_enum)]
        status: Option<TaskStatusFilter>,
    },
    /// One task: routing decision, attempts, result, cost, correlation and chain ids.
    Show { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskStatusFilter {
    Ok,
    Failed,
}

#[derive(Debug, Args)]
pub struct CostsArgs {
    /// Only calls on or after this day (YYYY-MM-DD, in your time zone).
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// One row per platform, model or day (UTC).
    #[arg(long, value_enum, default_value = "platform")]
    pub by: CostsBy,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CostsBy {
    Platform,
    Model,
    Day,
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
    Path {
        /// Machine-readable output: the path and whether the file exists.
        #[arg(long)]
        json: bool,
    },
}

/// The sources prices can be fetched from (files load with `ingest csv`, synthetic prices with
/// `ingest synthetic`: those are sources of stored rows, not of fetches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FetchSource {
    Cmc,
    Binance,
    Coinbase,
}

/// The most days of synthetic prices one command makes: a century per symbol. Unbounded, a typo
/// (`--days 100000000`) asked for gigabytes and a huge one overflowed an allocation.
pub const MAX_SYNTHETIC_DAYS: u64 = 36_500;

/// `--days` from `min` to [`MAX_SYNTHETIC_DAYS`].
fn days_in(min: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(min..=MAX_SYNTHETIC_DAYS)
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
            Command::Mcp(_) => "mcp",
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
    fn refresh_ema_takes_lists_and_refuses_date_with_a_range() {
        let cli = Cli::try_parse_from([
            "talab",
            "refresh-ema",
            "--symbols",
            "BTC,ETH",
            "--periods",
            "10,20",
        ])
        .unwrap();
        let Command::RefreshEma(a) = cli.command else {
            panic!()
        };
        assert_eq!((a.symbols.len(), a.periods), (2, vec![10, 20]));
        let both = [
            "talab",
            "refresh-ema",
            "--symbols",
            "BTC",
            "--date",
            "2021-01-01",
            "--end",
            "2021-02-01",
        ];
        assert!(Cli::try_parse_from(both).is_err());
    }

    #[test]
    fn run_refuses_unknown_types_and_platforms_and_strict_needs_a_platform() {
        let cli =
            Cli::try_parse_from(["talab", "run", "q", "--type", "planning", "--platform", "gemini"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.task_type, talab_orchestrator::TaskType::Planning);
        assert_eq!(args.platform, Some(talab_orchestrator::Platform::Gemini));
        let e = Cli::try_parse_from(["talab", "run", "q", "--type", "poetry"]).unwrap_err();
        assert!(e.to_string().contains("code_generation"), "{e}");
        assert!(Cli::try_parse_from(["talab", "run", "q", "--platform", "gpt"]).is_err());
        assert!(Cli::try_parse_from(["talab", "run", "q", "--strict"]).is_err());
    }
}

/// How `ema` prints its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RowFormat {
    /// A table for people.
    Table,
    /// CSV with a header.
    Csv,
    /// One JSON object.
    Json,
}

/// `ingest csv --format`: a layout, instead of detecting it from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvFormatArg {
    /// CoinMarketCap's website export.
    Cmc,
    /// A plain OHLCV file (date, open, high, low, close, volume).
    Ohlcv,
}

impl From<CsvFormatArg> for talab_features::sources::CsvFormat {
    fn from(f: CsvFormatArg) -> Self {
        match f {
            CsvFormatArg::Cmc => Self::Cmc,
            CsvFormatArg::Ohlcv => Self::Ohlcv,
        }
    }
}

/// `memory search --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Vector cosine fused with BM25.
    Hybrid,
    /// Vector cosine only.
    Vector,
    /// BM25 only: memories sharing no word with the query are not returned.
    Lexical,
}

impl From<ModeArg> for talab_memory::search::SearchMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Hybrid => Self::Hybrid,
            ModeArg::Vector => Self::Vector,
            ModeArg::Lexical => Self::Lexical,
        }
    }
}

/// `chart --style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StyleArg {
    /// Candles when they fit, else a line.
    Auto,
    /// OHLC candles.
    #[value(alias = "candle")]
    Candles,
    /// The close as a line.
    Line,
}

impl From<StyleArg> for talab_features::chart::ChartStyle {
    fn from(s: StyleArg) -> Self {
        match s {
            StyleArg::Auto => Self::Auto,
            StyleArg::Candles => Self::Candles,
            StyleArg::Line => Self::Line,
        }
    }
}

/// `chart --scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaleArg {
    /// Logarithmic when the highest price shown is more than 20× the lowest.
    Auto,
    Linear,
    Log,
}

impl From<ScaleArg> for talab_features::chart::PriceScale {
    fn from(s: ScaleArg) -> Self {
        match s {
            ScaleArg::Auto => Self::Auto,
            ScaleArg::Linear => Self::Linear,
            ScaleArg::Log => Self::Log,
        }
    }
}
