//! Turning an upload into the stored versions of an image: the format told from the bytes,
//! the size checked from the header before anything is decoded, the picture turned upright
//! by its EXIF orientation, then resized and re-encoded, so that no metadata of the upload
//! (EXIF, a GPS position, XMP, ICC, comments) survives, and a blurhash made.
//!
//! CPU-bound and memory-hungry: callers run [`process`] on the blocking pool, a permit of
//! `Media::permits` held (see `media::Media::process`).

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// The sizes an image is stored at: each fits within a square of this many pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    Small,
    Medium,
    Large,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Small, Size::Medium, Size::Large];

    /// The longest side, in pixels.
    pub fn bound(self) -> u32 {
        match self {
            Size::Small => 160,
            Size::Medium => 640,
            Size::Large => 1600,
        }
    }
}

/// Pictures with more pixels than this are refused before decoding (a 50,000 × 50,000
/// PNG of a few kilobytes would otherwise ask for 10 GB).
pub const MAX_PIXELS: u64 = 40_000_000;
/// What a decoder may allocate: a 40-megapixel RGBA picture at 16 bits a channel, and room.
const MAX_DECODE_BYTES: u64 = 400 * 1024 * 1024;
/// JPEG quality of the stored versions.
const JPEG_QUALITY: u8 = 85;

/// Why an upload is not an image we take. Each is the client's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("send a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the image has {pixels} pixels; at most 40 megapixels are accepted")]
    TooLarge { pixels: u64 },
    #[error("the image could not be read: it may be damaged or cut short")]
    Broken,
}

/// One stored version: its JPEG bytes and dimensions.
#[derive(Debug, Clone)]
pub struct Version {
    pub size: Size,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// What an upload became.
#[derive(Debug, Clone)]
pub struct Processed {
    /// SMALL, MEDIUM, LARGE, in that order.
    pub versions: Vec<Version>,
    /// The dimensions of the upright picture, as stored at LARGE.
    pub width: u32,
    pub height: u32,
    pub blurhash: String,
}

/// The format, by the file's first bytes (never by its name or declared type).
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Decodes, checks, turns upright, resizes and re-encodes an upload. Blocking.
pub fn process(bytes: &[u8]) -> Result<Processed, Refused> {
    let format = sniff(bytes).ok_or(Refused::NotAnImage)?;
    // The header alone: a decompression bomb is refused before it gets any memory.
    // Read without the decoding limits: the header is all that is read, and a size over
    // them is to be told apart (TooLarge) from a broken file.
    let mut header = ImageReader::with_format(Cursor::new(bytes), format);
    header.no_limits();
    let (width, height) = header.into_dimensions().map_err(|_| Refused::Broken)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        return Err(Refused::TooLarge { pixels });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| Refused::Broken)?;
    // A missing or unreadable orientation leaves the picture as it is stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| Refused::Broken)?;
    picture.apply_orientation(orientation);
    let upright = flatten(picture);
    drop_metadata_and_resize(upright)
}

/// The picture as 8-bit RGB; transparency laid on white (JPEG has none).
fn flatten(picture: DynamicImage) -> RgbImage {
    if !picture.color().has_alpha() {
        return picture.into_rgb8();
    }
    let rgba = picture.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = RgbImage::new(w, h);
    for (out, px) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(px[3]);
        for c in 0..3 {
            out[c] = ((u32::from(px[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    rgb
}

/// Makes the three versions (from the largest down, each from the one before: faster, and
/// as good at these ratios) and the blurhash from the smallest.
fn drop_metadata_and_resize(upright: RgbImage) -> Result<Processed, Refused> {
    let mut current = DynamicImage::ImageRgb8(upright);
    let mut versions = Vec::with_capacity(3);
    for size in [Size::Large, Size::Medium, Size::Small] {
        current = fit(current, size.bound());
        let rgb = current.to_rgb8();
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
            .encode_image(&rgb)
            .map_err(|_| Refused::Broken)?;
        versions.push(Version {
            size,
            bytes,
            width: rgb.width(),
            height: rgb.height(),
        });
    }
    versions.reverse();
    let large = &versions[2];
    let (width, height) = (large.width, large.height);
    let small = current.to_rgba8();
    let blurhash = blurhash::encode(4, 3, small.width(), small.height(), small.as_raw())
        .map_err(|_| Refused::Broken)?;
    Ok(Processed {
        versions,
        width,
        height,
        blurhash,
    })
}

/// The picture scaled to fit within `bound` × `bound`, keeping its proportions; never larger.
fn fit(picture: DynamicImage, bound: u32) -> DynamicImage {
    if picture.width() <= bound && picture.height() <= bound {
        return picture;
    }
    // Shrunk by more than half: area averaging (`thumbnail`), which cannot alias and took
    // a sixth of Lanczos's time on a 12-megapixel photo; closer ratios: Lanczos, sharper.
    if picture.width() > 2 * bound || picture.height() > 2 * bound {
        return picture.thumbnail(bound, bound);
    }
    picture.resize(bound, bound, FilterType::Lanczos3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 10, 10, 128]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(sniff(&png(2, 2)), Some(ImageFormat::Png));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some(ImageFormat::Jpeg));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageFormat::WebP));
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /\n"), None);
        assert_eq!(process(b"GIF89a...").unwrap_err(), Refused::NotAnImage);
    }

    #[test]
    fn versions_fit_their_bounds_and_are_never_upscaled() {
        let done = process(&png(2000, 1000)).unwrap();
        let dims: Vec<_> = done.versions.iter().map(|v| (v.width, v.height)).collect();
        assert_eq!(dims, vec![(160, 80), (640, 320), (1600, 800)]);
        assert_eq!((done.width, done.height), (1600, 800));
        let small = process(&png(100, 50)).unwrap();
        assert!(
            small
                .versions
                .iter()
                .all(|v| (v.width, v.height) == (100, 50))
        );
        assert!(!small.blurhash.is_empty());
    }

    #[test]
    fn a_bomb_is_refused_by_its_header() {
        let mut bytes = png(1, 1);
        // IHDR's width and height at bytes 16..24, and its CRC after them.
        bytes[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
        assert_eq!(
            process(&bytes).unwrap_err(),
            Refused::TooLarge {
                pixels: 2_500_000_000
            }
        );
    }

    /// Time and memory of one 12-megapixel photo: `cargo test --release --lib
    /// twelve_megapixels -- --ignored --nocapture` under `/usr/bin/time -v`.
    #[test]
    #[ignore]
    fn twelve_megapixels() {
        let picture = image::RgbImage::from_fn(4000, 3000, |x, y| {
            let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 64;
            image::Rgb([
                (x / 16) as u8 ^ n as u8,
                (y / 12) as u8,
                ((x + y) / 28) as u8,
            ])
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&picture)
            .unwrap();
        drop(picture);
        let started = std::time::Instant::now();
        let done = process(&jpeg).unwrap();
        println!(
            "12 MP JPEG ({} bytes) processed in {:?} to {}x{}",
            jpeg.len(),
            started.elapsed(),
            done.width,
            done.height
        );
    }

    #[test]
    fn a_cut_short_image_is_broken() {
        let bytes = png(300, 300);
        assert_eq!(process(&bytes[..60]).unwrap_err(), Refused::Broken);
    }
}
