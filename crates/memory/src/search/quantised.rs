//! The fast first pass of vector search: every row also kept as int8 codes with one scale per
//! row, scored against an int16 copy of the query, with a proven bound on how far each
//! approximate score can be from the exact cosine. The exact scan of 100k × 384 f32 values is
//! memory-bound (~150 MB read per query); the codes are a quarter of that.
//!
//! A row `x` is stored as `s·q + r` with `q` int8 (`s = max|x| / 127`) and the residual `r`
//! kept only as its norm `|r|`; the query `y` as `t·p + r'` with `p` int16. Then
//!
//! ```text
//! x·y = s·t·(q·p) + s·q·r' + r·y,   so   |x·y − s·t·(q·p)| ≤ |s·q|·|r'| + |r|·|y|
//! ```
//!
//! (Cauchy–Schwarz), plus a rounding allowance for the f32 arithmetic of the exact dot. The
//! caller re-scores exactly (with [`super::matrix::dot`]) every row whose bound interval could
//! change the answer, so results and reported scores are the exact ones: the codes only decide
//! which rows need the f32 vectors. `q·p` is an integer dot with i32 accumulation (AVX2
//! `vpmaddwd` when the CPU has it, chosen at run time, else a portable loop).

/// Rows × dim below which one thread scans faster than two (thread start-up ≈ the scan).
const PARALLEL_MIN_CODES: usize = 8 << 20;

/// Row-major int8 codes with per-row scale, code norm and residual norm.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuantisedMatrix {
    dim: usize,
    codes: Vec<i8>,
    /// `s` per row.
    scale: Vec<f32>,
    /// `|s·q|` per row.
    code_norm: Vec<f32>,
    /// `|x − s·q|` per row.
    residual: Vec<f32>,
}

/// A query prepared for [`QuantisedMatrix::approximate`].
#[derive(Debug, Clone, PartialEq)]
pub struct QuantisedQuery {
    codes: Vec<i16>,
    scale: f32,
    /// `|y|`.
    norm: f32,
    /// `|y − t·p|`.
    residual: f32,
    /// Allowance for f32 rounding in the exact dot and in the bound itself, per unit of `|x|·|y|`.
    rounding: f32,
}

impl QuantisedQuery {
    /// Quantises `query` to int16 codes, as large as the i32 accumulation allows at this length.
    pub fn new(query: &[f32]) -> Self {
        let dim = query.len().max(1);
        // |q·p| ≤ dim · 127 · max_code must stay below i32::MAX.
        let max_code = (i32::MAX as usize / (127 * dim)).min(i16::MAX as usize) as f32;
        let max_abs = query.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = if max_abs > 0.0 { max_abs / max_code } else { 1.0 };
        let codes: Vec<i16> = query
            .iter()
            .map(|v| (v / scale).round().clamp(-max_code, max_code) as i16)
            .collect();
        let norm = norm(query);
        let residual = residual_norm(query, codes.iter().map(|c| f32::from(*c)), scale);
        QuantisedQuery {
            codes,
            scale,
            norm,
            residual,
            // The exact f32 dot errs by at most ~dim·ε·|x|·|y|; doubled, plus a fixed floor for
            // the rounding of the bound terms themselves.
            rounding: 2.0 * dim as f32 * f32::EPSILON,
        }
    }
}

impl QuantisedMatrix {
    /// No rows of `dim` values.
    pub fn new(dim: usize) -> Self {
        QuantisedMatrix {
            dim,
            ..Default::default()
        }
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.scale.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.scale.is_empty()
    }

    /// Bytes held (capacity, not length: what the process actually keeps).
    pub fn bytes(&self) -> usize {
        self.codes.capacity()
            + 4 * (self.scale.capacity() + self.code_norm.capacity() + self.residual.capacity())
    }

    /// Makes room for `rows` more rows at once (a bulk load), so growth does not over-allocate.
    pub fn reserve_exact(&mut self, rows: usize) {
        self.codes.reserve_exact(rows * self.dim);
        self.scale.reserve_exact(rows);
        self.code_norm.reserve_exact(rows);
        self.residual.reserve_exact(rows);
    }

    /// Appends the codes of a row.
    pub fn push(&mut self, row: &[f32]) {
        assert_eq!(row.len(), self.dim, "row length");
        super::matrix::reserve_gently(&mut self.codes, self.dim);
        let (scale, code_norm, residual) = quantise_into(row, &mut self.codes);
        for (v, x) in [
            (&mut self.scale, scale),
            (&mut self.code_norm, code_norm),
            (&mut self.residual, residual),
        ] {
            super::matrix::reserve_gently(v, 1);
            v.push(x);
        }
    }

    /// Replaces the codes of row `i`.
    pub fn set(&mut self, i: usize, row: &[f32]) {
        assert_eq!(row.len(), self.dim, "row length");
        let mut codes = Vec::with_capacity(self.dim);
        let (scale, code_norm, residual) = quantise_into(row, &mut codes);
        self.codes[i * self.dim..(i + 1) * self.dim].copy_from_slice(&codes);
        self.scale[i] = scale;
        self.code_norm[i] = code_norm;
        self.residual[i] = residual;
    }

    /// Removes row `i`, moving the last row into its place.
    pub fn swap_remove(&mut self, i: usize) {
        let last = self.len() - 1;
        if i != last {
            self.codes
                .copy_within(last * self.dim..(last + 1) * self.dim, i * self.dim);
        }
        self.codes.truncate(last * self.dim);
        if self.codes.capacity() > self.codes.len() + self.codes.len() / 4 + 4096 {
            self.codes.shrink_to(self.codes.len() + self.codes.len() / 8);
        }
        self.scale.swap_remove(i);
        self.code_norm.swap_remove(i);
        self.residual.swap_remove(i);
    }

    /// The approximate score of every row, in row order, split over the cores for large matrices.
    pub fn approximate(&self, query: &QuantisedQuery) -> Vec<f32> {
        assert_eq!(query.codes.len(), self.dim, "query length");
        let n = self.len();
        let mut out = vec![0.0f32; n];
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        if threads < 2 || self.codes.len() < PARALLEL_MIN_CODES {
            self.approximate_rows(query, 0, &mut out);
            return out;
        }
        let per_thread = n.div_ceil(threads);
        std::thread::scope(|scope| {
            for (part, chunk) in out.chunks_mut(per_thread).enumerate() {
                scope.spawn(move || self.approximate_rows(query, part * per_thread, chunk));
            }
        });
        out
    }

    /// How far row `i`'s approximate score can be from its exact dot with the query.
    #[inline]
    pub fn error_bound(&self, i: usize, query: &QuantisedQuery) -> f32 {
        let (code_norm, residual) = (self.code_norm[i], self.residual[i]);
        let bound = code_norm * query.residual + residual * query.norm;
        bound + query.rounding * (code_norm + residual) * query.norm + 1e-6
    }

    fn approximate_rows(&self, query: &QuantisedQuery, first: usize, out: &mut [f32]) {
        let codes = &self.codes[first * self.dim..(first + out.len()) * self.dim];
        let scales = &self.scale[first..first + out.len()];
        dot_rows(codes, &query.codes, self.dim, query.scale, scales, out);
    }
}

/// Quantises a row onto the end of `codes`; returns its scale, code norm and residual norm.
fn quantise_into(row: &[f32], codes: &mut Vec<i8>) -> (f32, f32, f32) {
    let max_abs = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if max_abs > 0.0 { max_abs / 127.0 } else { 1.0 };
    let start = codes.len();
    codes.extend(row.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8));
    let mine = &codes[start..];
    let code_norm = scale * norm_of(mine.iter().map(|c| f32::from(*c)));
    let residual = residual_norm(row, mine.iter().map(|c| f32::from(*c)), scale);
    (scale, code_norm, residual)
}

fn norm(v: &[f32]) -> f32 {
    norm_of(v.iter().copied())
}

fn norm_of(values: impl Iterator<Item = f32>) -> f32 {
    values.map(|x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt() as f32
}

/// `|v − scale·codes|`, in f64 so the bound is not itself a rounding artefact.
fn residual_norm(v: &[f32], codes: impl Iterator<Item = f32>, scale: f32) -> f32 {
    let sum: f64 = v
        .iter()
        .zip(codes)
        .map(|(x, c)| {
            let r = f64::from(*x) - f64::from(scale) * f64::from(c);
            r * r
        })
        .sum();
    // Rounded up a little: the bound must not be smaller than the truth.
    (sum.sqrt() * (1.0 + 1e-6)) as f32
}

/// `out[r] = query_scale · scales[r] · (codes[r] · query)` for each row of `codes`.
fn dot_rows(codes: &[i8], query: &[i16], dim: usize, query_scale: f32, scales: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { avx2::dot_rows(codes, query, dim, query_scale, scales, out) };
        return;
    }
    for ((row, scale), slot) in codes.chunks_exact(dim).zip(scales).zip(out.iter_mut()) {
        *slot = query_scale * scale * dot_i8_i16(row, query) as f32;
    }
}

/// The integer dot of int8 codes and int16 query codes (portable).
pub fn dot_i8_i16(a: &[i8], b: &[i16]) -> i32 {
    let mut acc = [0i32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for lane in 0..8 {
            acc[lane] += i32::from(x[lane]) * i32::from(y[lane]);
        }
    }
    let tail: i32 = ra
        .iter()
        .zip(rb)
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    acc.iter().sum::<i32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// AVX2 version of [`super::dot_rows`]: 16 codes per step, sign-extended to i16 and
    /// multiplied-and-pair-added into eight i32 lanes (`vpmaddwd`). Integer arithmetic, so the
    /// result equals the portable loop exactly.
    #[target_feature(enable = "avx2")]
    pub(super) fn dot_rows(
        codes: &[i8],
        query: &[i16],
        dim: usize,
        query_scale: f32,
        scales: &[f32],
        out: &mut [f32],
    ) {
        let steps = dim / 16;
        for ((row, scale), slot) in codes.chunks_exact(dim).zip(scales).zip(out.iter_mut()) {
            let mut acc = _mm256_setzero_si256();
            for s in 0..steps {
                // SAFETY: s·16 + 16 ≤ dim = row.len() = query.len(); unaligned loads.
                unsafe {
                    let a = _mm_loadu_si128(row.as_ptr().add(s * 16).cast());
                    let b = _mm256_loadu_si256(query.as_ptr().add(s * 16).cast());
                    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_cvtepi8_epi16(a), b));
                }
            }
            let mut lanes = [0i32; 8];
            // SAFETY: `lanes` holds exactly 32 bytes.
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
            let tail: i32 = row[steps * 16..]
                .iter()
                .zip(&query[steps * 16..])
                .map(|(x, y)| i32::from(*x) * i32::from(*y))
                .sum();
            *slot = query_scale * scale * (lanes.iter().sum::<i32>() + tail) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::matrix::dot;
    use super::*;

    fn unit(v: Vec<f32>) -> Vec<f32> {
        let n = norm(&v);
        v.into_iter().map(|x| x / n).collect()
    }

    #[test]
    fn approximate_scores_stay_within_their_bound() {
        let mut state = 11u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        for dim in [1, 7, 16, 37, 384] {
            let rows: Vec<Vec<f32>> = (0..200)
                .map(|_| unit((0..dim).map(|_| next()).collect()))
                .collect();
            let mut m = QuantisedMatrix::new(dim);
            rows.iter().for_each(|r| m.push(r));
            let query = unit((0..dim).map(|_| next()).collect());
            let q = QuantisedQuery::new(&query);
            let approx = m.approximate(&q);
            for (i, row) in rows.iter().enumerate() {
                let exact = dot(row, &query);
                let bound = m.error_bound(i, &q);
                assert!(
                    (exact - approx[i]).abs() <= bound,
                    "dim {dim} row {i}: {exact} vs {} ± {bound}",
                    approx[i]
                );
                assert!(bound < 0.05, "the bound is useful: {bound}");
            }
        }
    }

    #[test]
    fn avx2_and_portable_agree_and_rows_move() {
        let mut m = QuantisedMatrix::new(20);
        let rows: Vec<Vec<f32>> = (0..5)
            .map(|r| unit((0..20).map(|c| ((r * 20 + c) as f32 * 0.37).sin()).collect()))
            .collect();
        rows.iter().for_each(|r| m.push(r));
        let q = QuantisedQuery::new(&rows[2]);
        let approx = m.approximate(&q);
        for (i, row) in m.codes.chunks_exact(20).enumerate() {
            assert_eq!(approx[i], q.scale * m.scale[i] * dot_i8_i16(row, &q.codes) as f32);
        }
        m.swap_remove(1);
        assert_eq!(m.len(), 4);
        assert_eq!(m.approximate(&q)[1], approx[4]);
        m.set(0, &rows[1]);
        assert_eq!(m.approximate(&q)[0], approx[1]);
        m.swap_remove(3);
        assert_eq!(m.len(), 3);
    }
}
