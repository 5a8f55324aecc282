//! Embeddings as bytes: f32 values, little-endian, 4 bytes each, in a BLOB (SQLite) or BYTEA
//! (PostgreSQL), so both backends hold identical bytes and any platform reads them back the same.

/// The bytes of a vector: each value's IEEE 754 bits, little-endian.
pub fn encode(vector: &[f32]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(vector.len() * 4);
    for v in vector {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// The vector those bytes hold; `None` when their length is not a multiple of 4.
pub fn decode(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_little_endian_f32() {
        assert_eq!(encode(&[1.0]), [0x00, 0x00, 0x80, 0x3f]);
        assert_eq!(encode(&[-2.5, 0.0]), [0x00, 0x00, 0x20, 0xc0, 0, 0, 0, 0]);
        assert_eq!(decode(&[0x00, 0x00, 0x80, 0x3f]), Some(vec![1.0]));
    }

    #[test]
    fn round_trips_exact_bits() {
        let v = vec![0.1, -0.0, f32::MIN_POSITIVE, f32::MAX, -1.0e-30, 0.333_333_34];
        let back = decode(&encode(&v)).unwrap();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(decode(&[]), Some(vec![]));
    }

    #[test]
    fn refuses_a_partial_value() {
        assert_eq!(decode(&[1, 2, 3]), None);
        assert_eq!(decode(&[0, 0, 0x80, 0x3f, 9]), None);
    }
}
