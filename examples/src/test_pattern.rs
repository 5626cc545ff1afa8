//! What the mock camera "sees": a moving test pattern with the stage position drawn in, as
//! RGB pixels, and its JPEG encoding (the pure-Rust `jpeg-encoder` crate).
//!
//! The pattern is diagonal colour bands drifting with the frame number (so a stuck stream is
//! obvious), a cross-hair that moves with the stage's x and y (one pixel per 10 steps,
//! wrapping at the edges), and a caption with the frame number and the stage position.

use jpeg_encoder::{ColorType, Encoder, EncodingError};

/// One frame's picture: RGB, 3 bytes a pixel, row by row.
pub struct Picture {
    pub width: u16,
    pub height: u16,
    pub rgb: Vec<u8>,
}

/// Steps of stage travel per pixel of cross-hair movement.
const STEPS_PER_PIXEL: i64 = 10;
/// Size of one font pixel, in image pixels.
const FONT_SCALE: usize = 3;

impl Picture {
    /// The test pattern at frame `frame`, the cross-hair at `position` (x, y, z in steps), or
    /// centred with no caption position when there is no stage. `brightness` scales the
    /// bands (1.0 is nominal).
    pub fn render(
        width: u16,
        height: u16,
        frame: u64,
        position: Option<[i64; 3]>,
        brightness: f64,
    ) -> Self {
        let (w, h) = (usize::from(width), usize::from(height));
        let mut rgb = vec![0; w * h * 3];
        let shift = (frame * 4) as usize;
        let scale = brightness.clamp(0.0, 4.0);
        for y in 0..h {
            for x in 0..w {
                let band = (x + y + shift) % 256;
                let i = (y * w + x) * 3;
                let level = |v: usize| ((v % 256) as f64 * scale).min(255.0) as u8;
                rgb[i] = level(band);
                rgb[i + 1] = level(band + 85);
                rgb[i + 2] = level(255 - band);
            }
        }
        let mut picture = Self { width, height, rgb };
        let [sx, sy, sz] = position.unwrap_or([0; 3]);
        let cx = (w as i64 / 2 + sx / STEPS_PER_PIXEL).rem_euclid(w.max(1) as i64) as usize;
        let cy = (h as i64 / 2 - sy / STEPS_PER_PIXEL).rem_euclid(h.max(1) as i64) as usize;
        picture.cross_hair(cx, cy);
        let caption = match position {
            Some(_) => format!("#{frame} X{sx} Y{sy} Z{sz}"),
            None => format!("#{frame}"),
        };
        picture.caption(&caption);
        picture
    }

    fn put(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < usize::from(self.width) && y < usize::from(self.height) {
            let i = (y * usize::from(self.width) + x) * 3;
            self.rgb[i..i + 3].copy_from_slice(&colour);
        }
    }

    /// White lines through (`cx`, `cy`) across the whole picture, with a box around it.
    fn cross_hair(&mut self, cx: usize, cy: usize) {
        const WHITE: [u8; 3] = [255, 255, 255];
        for x in 0..usize::from(self.width) {
            self.put(x, cy, WHITE);
        }
        for y in 0..usize::from(self.height) {
            self.put(cx, y, WHITE);
        }
        let (cx, cy) = (cx as i64, cy as i64);
        for d in -10..=10 {
            for (x, y) in [
                (cx + d, cy - 10),
                (cx + d, cy + 10),
                (cx - 10, cy + d),
                (cx + 10, cy + d),
            ] {
                if let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) {
                    self.put(x, y, WHITE);
                }
            }
        }
    }

    /// `text` in white on black at the top left, in a 3×5 pixel font.
    fn caption(&mut self, text: &str) {
        let glyph_width = 4 * FONT_SCALE;
        let box_width = text.chars().count() * glyph_width + FONT_SCALE;
        let box_height = 7 * FONT_SCALE;
        for y in 0..box_height {
            for x in 0..box_width {
                self.put(x, y, [0, 0, 0]);
            }
        }
        for (n, c) in text.chars().enumerate() {
            let bits = glyph(c);
            for row in 0..5 {
                for col in 0..3 {
                    if bits & (1 << (14 - (row * 3 + col))) == 0 {
                        continue;
                    }
                    for dy in 0..FONT_SCALE {
                        for dx in 0..FONT_SCALE {
                            let x = FONT_SCALE + n * glyph_width + col * FONT_SCALE + dx;
                            let y = FONT_SCALE + row * FONT_SCALE + dy;
                            self.put(x, y, [255, 255, 255]);
                        }
                    }
                }
            }
        }
    }

    /// Encode as a baseline JPEG of `quality` (1–100).
    pub fn to_jpeg(&self, quality: u8) -> Result<Vec<u8>, EncodingError> {
        let mut jpeg = Vec::with_capacity(self.rgb.len() / 8);
        Encoder::new(&mut jpeg, quality).encode(
            &self.rgb,
            self.width,
            self.height,
            ColorType::Rgb,
        )?;
        Ok(jpeg)
    }
}

/// A 3×5 glyph, 15 bits row by row from the top left; unknown characters are blank.
fn glyph(c: char) -> u16 {
    match c {
        '0' => 0b111_101_101_101_111,
        '1' => 0b010_110_010_010_111,
        '2' => 0b111_001_111_100_111,
        '3' => 0b111_001_111_001_111,
        '4' => 0b101_101_111_001_001,
        '5' => 0b111_100_111_001_111,
        '6' => 0b111_100_111_101_111,
        '7' => 0b111_001_010_010_010,
        '8' => 0b111_101_111_101_111,
        '9' => 0b111_101_111_001_111,
        '-' => 0b000_000_111_000_000,
        '#' => 0b101_111_101_111_101,
        'X' => 0b101_101_010_101_101,
        'Y' => 0b101_101_010_010_010,
        'Z' => 0b111_001_010_100_111,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_jpeg_that_changes_with_the_stage() {
        let at = |position| {
            Picture::render(64, 48, 1, Some(position), 1.0)
                .to_jpeg(80)
                .unwrap()
        };
        let here = at([0, 0, 0]);
        assert_eq!(&here[..2], &[0xFF, 0xD8]);
        assert_eq!(&here[here.len() - 2..], &[0xFF, 0xD9]);
        assert_ne!(here, at([100, 50, 0]));
    }

    #[test]
    fn the_cross_hair_follows_x_and_y() {
        let picture = Picture::render(100, 80, 0, Some([200, -100, 0]), 1.0);
        let pixel = |x: usize, y: usize| {
            let i = (y * 100 + x) * 3;
            [picture.rgb[i], picture.rgb[i + 1], picture.rgb[i + 2]]
        };
        // x = 50 + 200/10 = 70; y = 40 + 100/10 = 50 (y grows upwards on the stage).
        assert_eq!(pixel(70, 75), [255; 3]);
        assert_eq!(pixel(95, 50), [255; 3]);
    }
}
