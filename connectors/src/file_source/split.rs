//! Cutting a [`RawBatch`] into consecutive parts, so that one large batch (a stream batch of
//! tens of thousands of messages) can be staged on several threads and written in order.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;

use super::RawBatch;

impl RawBatch {
    /// Splits the batch into at most `parts` consecutive parts of nearly equal rows, each with
    /// the rejects that fall within its positions and lineage covering just those positions;
    /// together the parts cover exactly the positions the batch did. A batch of fewer rows than
    /// `parts` (or whose `_position` column cannot be read) comes back whole.
    pub fn split(self, parts: usize) -> Vec<RawBatch> {
        let rows = self.batch.num_rows();
        let parts = parts.min(rows).max(1);
        let starts: Vec<usize> = (1..parts).map(|i| rows * i / parts).collect();
        self.split_before(&starts)
    }

    /// Splits the batch into consecutive parts, a new one starting at each row of `starts`
    /// (ascending, each inside the batch and after the first row; others are ignored), with the
    /// same rejects and lineage rules as [`Self::split`]. A batch whose `_position` column
    /// cannot be read comes back whole.
    pub fn split_before(self, starts: &[usize]) -> Vec<RawBatch> {
        let rows = self.batch.num_rows();
        let mut ends: Vec<usize> = Vec::with_capacity(starts.len() + 1);
        for &s in starts {
            if s > ends.last().copied().unwrap_or(0) && s < rows {
                ends.push(s);
            }
        }
        ends.push(rows);
        let positions = self
            .batch
            .column_by_name("_position")
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .filter(|p| p.null_count() == 0)
            .map(|p| p.values().to_vec());
        let Some(positions) = positions.filter(|_| ends.len() > 1) else { return vec![self] };
        let RawBatch { lineage, batch, mut rejects, withdrawn } = self;
        let mut out = Vec::with_capacity(ends.len());
        let mut start_row = 0;
        let mut first = lineage.first_position;
        let parts = ends.len();
        for (i, end_row) in ends.into_iter().enumerate() {
            // Each part runs up to the position before the next part's first row; the last to
            // the batch's last position.
            let last = match positions.get(end_row) {
                Some(next) if i + 1 < parts => next.saturating_sub(1),
                _ => lineage.last_position,
            };
            let (mine, rest): (Vec<_>, Vec<_>) = rejects.into_iter().partition(|r| r.position <= last);
            rejects = rest;
            let mut part_lineage = lineage.clone();
            (part_lineage.first_position, part_lineage.last_position) = (first, last);
            out.push(RawBatch {
                lineage: part_lineage,
                batch: batch.slice(start_row, end_row - start_row),
                rejects: mine,
                withdrawn: withdrawn.get(start_row..end_row).map(<[bool]>::to_vec).unwrap_or_default(),
            });
            start_row = end_row;
            first = last + 1;
        }
        // Positions beyond the last row's (rejects after it) belong to the last part already;
        // any left over (out of order) go there too rather than be lost.
        if let Some(last_part) = out.last_mut() {
            last_part.rejects.extend(rejects);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::file_source::MessageBatcher;

    #[test]
    fn parts_cover_the_batch_in_order_with_their_rejects() {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let mut b = MessageBatcher::new(feed, "kafka:t/0".to_owned(), 100, 1 << 20);
        for offset in 10..40u64 {
            if offset % 7 == 0 {
                b.push(offset, Some(b"not json"));
            } else {
                b.push(offset, Some(format!(r#"{{"record_id": "R{offset}"}}"#).as_bytes()));
            }
        }
        let raw = b.take().unwrap().unwrap();
        let (rows, rejects) = (raw.batch.num_rows(), raw.rejects.len());
        assert_eq!((rows, rejects), (26, 4));
        let parts = raw.split(3);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.iter().map(|p| p.batch.num_rows()).sum::<usize>(), rows);
        assert_eq!(parts.iter().map(|p| p.rejects.len()).sum::<usize>(), rejects);
        assert_eq!(parts[0].lineage.first_position, 10);
        assert_eq!(parts[2].lineage.last_position, 39);
        for w in parts.windows(2) {
            assert_eq!(w[0].lineage.last_position + 1, w[1].lineage.first_position);
        }
        for p in &parts {
            let range = p.lineage.first_position..=p.lineage.last_position;
            assert!(p.rejects.iter().all(|r| range.contains(&r.position)));
        }
        let first = parts.into_iter().next().unwrap();
        let n = first.batch.num_rows();
        assert_eq!(first.split(50).len(), n, "a part splits into no more parts than it has rows");
    }

    #[test]
    fn a_batch_splits_before_the_rows_named() {
        let feed = tellonce_schemas::feed::latest("police").unwrap();
        let mut b = MessageBatcher::new(feed, "kafka:t/0".to_owned(), 100, 1 << 20);
        for offset in 0..10u64 {
            b.push(offset, Some(format!(r#"{{"record_id": "R{offset}"}}"#).as_bytes()));
        }
        let raw = b.take().unwrap().unwrap();
        // Out of range and repeated starts are ignored.
        let parts = raw.split_before(&[0, 3, 3, 7, 99]);
        let sizes: Vec<usize> = parts.iter().map(|p| p.batch.num_rows()).collect();
        assert_eq!(sizes, [3, 4, 3]);
        let spans: Vec<(u64, u64)> =
            parts.iter().map(|p| (p.lineage.first_position, p.lineage.last_position)).collect();
        assert_eq!(spans, [(0, 2), (3, 6), (7, 9)]);
    }
}
