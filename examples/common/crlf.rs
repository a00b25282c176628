//! CSV input with CRLF line ends read as LF, for the data tools' error messages: the csv crate
//! (1.3) numbers the records of CRLF input one line too low (BurntSushi/rust-csv#395), so a
//! tool named the line before the bad one. Shared by the examples through `#[path]`.

use std::io::{self, BufRead, Read};

/// Reads `inner` with each `\r` that comes right before a `\n` left out (a `\r` elsewhere is
/// kept; inside a quoted cell a CRLF becomes LF).
pub(crate) struct CrlfAsLf<R> {
    inner: R,
}

impl<R: BufRead> CrlfAsLf<R> {
    pub(crate) fn new(inner: R) -> Self {
        CrlfAsLf { inner }
    }
}

impl<R: BufRead> Read for CrlfAsLf<R> {
    /// Returns what the inner buffer holds up to the next `\r` (so a streaming reader gets
    /// each line as it comes, never waiting for a full buffer).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let avail = self.inner.fill_buf()?;
            let Some(&first) = avail.first() else {
                return Ok(0);
            };
            if first != b'\r' {
                let take = avail.len().min(buf.len());
                let run = avail[..take]
                    .iter()
                    .position(|&c| c == b'\r')
                    .unwrap_or(take);
                buf[..run].copy_from_slice(&avail[..run]);
                self.inner.consume(run);
                return Ok(run);
            }
            // A `\r`: left out when a `\n` follows (which may be in the next buffer).
            let newline_next = if avail.len() >= 2 {
                let next = avail[1] == b'\n';
                self.inner.consume(1);
                next
            } else {
                self.inner.consume(1);
                self.inner.fill_buf()?.first() == Some(&b'\n')
            };
            if !newline_next {
                buf[0] = b'\r';
                return Ok(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(input: &[u8], buffer: usize, chunk: usize) -> Vec<u8> {
        let mut r = CrlfAsLf::new(io::BufReader::with_capacity(buffer, input));
        let mut out = Vec::new();
        let mut b = vec![0; chunk];
        loop {
            let k = r.read(&mut b).unwrap();
            if k == 0 {
                return out;
            }
            out.extend_from_slice(&b[..k]);
        }
    }

    #[test]
    fn crlf_becomes_lf_at_any_buffer_boundary() {
        let input = b"a,b\r\n1,2\r\n\r\r\nx\ry\r";
        let want = b"a,b\n1,2\n\r\nx\ry\r";
        for buffer in 1..8 {
            for chunk in 1..8 {
                assert_eq!(through(input, buffer, chunk), want, "{buffer} {chunk}");
            }
        }
    }
}
