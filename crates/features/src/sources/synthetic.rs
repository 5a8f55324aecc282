//! A seeded synthetic price series: a geometric random walk with crypto-like daily volatility, for
//! offline demos and benchmarks. Rows are marked `source = synthetic` wherever they show.
//!
//! The stream is ChaCha8 seeded from (seed, symbol), so a symbol's series is the same on every
//! machine and version, and does not depend on which other symbols are generated with it.

use chrono::{Duration, NaiveDate};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::prices::{RawPrice, SourceKind, day_end, day_start};
use crate::sources::{PriceSource, within};
use crate::{FeatureError, normalise_symbol};

/// The default first day of a synthetic series.
pub const DEFAULT_START: NaiveDate = match NaiveDate::from_ymd_opt(2015, 1, 1) {
    Some(d) => d,
    None => unreachable!(),
};

/// Generates daily rows by a seeded geometric random walk.
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    seed: u64,
    start: NaiveDate,
    daily_volatility: f64,
    drift: f64,
}

impl SyntheticSource {
    /// A walk with 3.5 % daily volatility and a small positive drift, starting on 2015-01-01.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            start: DEFAULT_START,
            daily_volatility: 0.035,
            drift: 0.0005,
        }
    }

    /// Sets the first day of every series.
    pub fn with_start(mut self, start: NaiveDate) -> Self {
        self.start = start;
        self
    }

    /// Sets the standard deviation of daily log returns (0.035 = 3.5 %).
    pub fn with_daily_volatility(mut self, sigma: f64) -> Self {
        self.daily_volatility = sigma.abs();
        self
    }

    /// The first day of every series.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// `days` consecutive daily rows of `symbol` from the start day.
    pub fn series(&self, symbol: &str, days: usize) -> Result<Vec<RawPrice>, FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ fnv1a(symbol.as_bytes()));
        let mut normal = Normal::default();
        // A starting price between 1 and 10,000, log-uniform, and a typical daily volume.
        let mut close = 10f64.powf(4.0 * unit(&mut rng));
        let base_volume = 10f64.powf(6.0 + 3.0 * unit(&mut rng));
        let sigma = self.daily_volatility;
        let mut rows = Vec::with_capacity(days);
        for i in 0..days {
            let day = self.start + Duration::days(i as i64);
            let open = close;
            close = open * (self.drift - sigma * sigma / 2.0 + sigma * normal.sample(&mut rng)).exp();
            let high = open.max(close) * (sigma * 0.5 * normal.sample(&mut rng).abs()).exp();
            let low = open.min(close) * (-sigma * 0.5 * normal.sample(&mut rng).abs()).exp();
            let volume = base_volume * (0.5 * normal.sample(&mut rng)).exp();
            let (t0, ms_in_day) = (day_start(day), 86_400_000.0);
            let at = |u: f64| t0 + Duration::milliseconds((u * ms_in_day) as i64);
            rows.push(RawPrice {
                symbol: symbol.clone(),
                ts: day_end(day),
                time_open: t0,
                time_close: day_end(day),
                time_high: Some(at(unit(&mut rng))),
                time_low: Some(at(unit(&mut rng))),
                open: Some(open),
                high: Some(high),
                low: Some(low),
                close: Some(close),
                volume: Some(volume),
                market_cap: None,
                source: SourceKind::Synthetic,
                source_file: None,
            });
        }
        Ok(rows)
    }
}

#[async_trait::async_trait]
impl PriceSource for SyntheticSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Synthetic
    }

    async fn daily(
        &self,
        symbol: &str,
        since: Option<NaiveDate>,
        until: NaiveDate,
    ) -> Result<Vec<RawPrice>, FeatureError> {
        let days = (until - self.start).num_days() + 1;
        let rows = self.series(symbol, days.max(0) as usize)?;
        Ok(within(rows, since, until))
    }
}

/// A uniform number in [0, 1) from the top 53 bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal numbers by Box–Muller (both values of a pair are used).
#[derive(Default)]
struct Normal {
    spare: Option<f64>,
}

impl Normal {
    fn sample(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - unit(rng); // (0, 1]: ln is finite
        let u2 = unit(rng);
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// FNV-1a: a stable hash of the symbol (std's hasher may change between Rust versions).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
