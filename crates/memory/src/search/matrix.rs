//! The exact-search core: every vector of a store in one contiguous row-major f32 matrix, scored
//! against a query by dot product (cosine, since rows and queries are unit length).
//!
//! Contiguous rows keep the scan a straight stream through memory; the inner loop accumulates
//! eight lanes at a time (`chunks_exact(8)`), which the compiler turns into SIMD, and large
//! matrices are split across the machine's cores with `std::thread::scope`.

/// Below this many f32 values (rows × dim) one thread is faster than starting others.
const PARALLEL_MIN_VALUES: usize = 1 << 20;

/// Row-major `len × dim` vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatrix {
    dim: usize,
    data: Vec<f32>,
}

impl VectorMatrix {
    /// An empty matrix of `dim`-long rows.
    pub fn new(dim: usize) -> Self {
        VectorMatrix {
            dim,
            data: Vec::new(),
        }
    }

    /// The row length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes held by the vectors (what a store of this size costs in memory).
    pub fn bytes(&self) -> usize {
        self.data.capacity() * std::mem::size_of::<f32>()
    }

    /// Appends a row (caller checks its length); returns its index.
    pub fn push(&mut self, row: &[f32]) -> usize {
        assert_eq!(row.len(), self.dim, "row length");
        reserve_gently(&mut self.data, self.dim);
        self.data.extend_from_slice(row);
        self.len() - 1
    }

    /// Makes room for `rows` more rows at once (a bulk load), so growth does not over-allocate.
    pub fn reserve_exact(&mut self, rows: usize) {
        self.data.reserve_exact(rows * self.dim);
    }

    /// Replaces row `i`.
    pub fn set(&mut self, i: usize, row: &[f32]) {
        self.data[i * self.dim..(i + 1) * self.dim].copy_from_slice(row);
    }

    /// Removes row `i` by moving the last row into its place (as `Vec::swap_remove`).
    pub fn swap_remove(&mut self, i: usize) {
        let last = self.len() - 1;
        if i != last {
            let (head, tail) = self.data.split_at_mut(last * self.dim);
            head[i * self.dim..(i + 1) * self.dim].copy_from_slice(tail);
        }
        self.data.truncate(last * self.dim);
        if self.data.capacity() > self.data.len() + self.data.len() / 4 + 4096 {
            self.data.shrink_to(self.data.len() + self.data.len() / 8);
        }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The dot product of every row with `query`, in row order. Bit-identical to calling [`dot`]
    /// on each row, whichever number of threads runs it.
    pub fn scores(&self, query: &[f32]) -> Vec<f32> {
        assert_eq!(query.len(), self.dim, "query length");
        let n = self.len();
        let mut out = vec![0.0f32; n];
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        if threads < 2 || self.data.len() < PARALLEL_MIN_VALUES {
            self.score_rows(query, 0, &mut out);
            return out;
        }
        let per_thread = n.div_ceil(threads);
        std::thread::scope(|scope| {
            for (part, chunk) in out.chunks_mut(per_thread).enumerate() {
                scope.spawn(move || self.score_rows(query, part * per_thread, chunk));
            }
        });
        out
    }

    fn score_rows(&self, query: &[f32], first: usize, out: &mut [f32]) {
        for (k, slot) in out.iter_mut().enumerate() {
            *slot = dot(self.row(first + k), query);
        }
    }
}

/// Makes room for `additional` more values, growing by an eighth rather than doubling: a store
/// of 100k × 384 f32 would otherwise hold up to twice its 154 MB. Still amortised O(1) per push.
pub fn reserve_gently<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        v.reserve_exact(
            additional
                .max(v.len() / 8)
                .max(4096 / std::mem::size_of::<T>().max(1)),
        );
    }
}

/// Dot product with eight independent accumulators (SIMD-friendly), then the remainder, then the
/// lanes summed in a fixed order: deterministic for given inputs.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for lane in 0..8 {
            acc[lane] += x[lane] * y[lane];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// The textbook dot product (one running sum, f64): the reference the scan is tested against.
pub fn naive_dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum::<f64>() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_added_replaced_and_removed() {
        let mut m = VectorMatrix::new(2);
        assert!(m.is_empty());
        m.push(&[1.0, 0.0]);
        m.push(&[0.0, 1.0]);
        m.push(&[0.6, 0.8]);
        assert_eq!(m.scores(&[1.0, 0.0]), [1.0, 0.0, 0.6]);
        m.swap_remove(0);
        assert_eq!(m.len(), 2);
        assert_eq!(m.row(0), [0.6, 0.8]);
        m.set(1, &[-1.0, 0.0]);
        assert_eq!(m.scores(&[1.0, 0.0]), [0.6, -1.0]);
        m.swap_remove(1);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn dot_handles_remainders() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let expected: f32 = (0..19).map(|i| (i * i) as f32).sum();
        assert_eq!(dot(&a, &a), expected);
        assert_eq!(naive_dot(&a, &a), expected);
    }
}
