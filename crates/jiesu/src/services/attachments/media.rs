//! What a file is, from its first bytes (never from its name), and what a photo may carry
//! into storage: EXIF, XMP and text chunks are dropped from JPEG, PNG and WebP without
//! re-encoding (only a JPEG's orientation is kept, in a minimal EXIF of its own), and a
//! thumbnail is drawn. A HEIC photo (an iPhone's, most Android phones') is decoded with
//! `heifer` (pure Rust, no `unsafe`, MIT/Apache-2.0) and stored as a JPEG: browsers other than
//! Safari cannot show HEIC, and the pixels alone carry no EXIF, XMP or place. Other HEIF
//! kinds (AVIF, image sequences) are refused.

/// The kinds of attachment, each with its own size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// JPEG, PNG, WebP; HEIC (stored as JPEG).
    Photo,
    /// WAV, MP3, AMR (call recordings).
    Audio,
    /// MP4.
    Video,
    /// PDF.
    Pdf,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::Pdf => "pdf",
        }
    }

    /// The stored name read back.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "photo" => Kind::Photo,
            "audio" => Kind::Audio,
            "video" => Kind::Video,
            "pdf" => Kind::Pdf,
            _ => return None,
        })
    }
}

/// A recognised type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: Kind,
    pub content_type: &'static str,
}

/// How many leading bytes [`sniff`] wants (fewer only when the file is shorter): a HEIF
/// file's `ftyp` box with its first twelve compatible brands.
pub const SNIFF_LEN: usize = 64;

/// The type of a file from its first bytes, None when it is not one that is accepted.
pub fn sniff(b: &[u8]) -> Option<Sniffed> {
    let s = |kind, content_type| Some(Sniffed { kind, content_type });
    let at = |i: usize, m: &[u8]| b.len() >= i + m.len() && &b[i..i + m.len()] == m;
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        s(Kind::Photo, "image/jpeg")
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        s(Kind::Photo, "image/png")
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        s(Kind::Photo, "image/webp")
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        s(Kind::Audio, "audio/wav")
    } else if at(0, b"#!AMR") {
        s(Kind::Audio, "audio/amr")
    } else if at(0, b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE6 == 0xE2) {
        // an ID3 tag, or an MPEG audio frame sync with layer III
        s(Kind::Audio, "audio/mpeg")
    } else if at(4, b"ftyp") && is_heic(b) {
        s(Kind::Photo, "image/heic")
    } else if at(4, b"ftyp") && b.len() >= 12 && !is_heif_brand(&b[8..12]) {
        s(Kind::Video, "video/mp4")
    } else if at(0, b"%PDF-") {
        s(Kind::Pdf, "application/pdf")
    } else {
        None
    }
}

/// A HEVC-coded still image (HEIC): the `ftyp` box's major brand is `heic` or `heix`, or a
/// generic `mif1`/`mif2` names one of them among its compatible brands (in the bytes given).
fn is_heic(b: &[u8]) -> bool {
    let heic = |brand: &[u8]| matches!(brand, b"heic" | b"heix");
    let Some(major) = b.get(8..12) else {
        return false;
    };
    if heic(major) {
        return true;
    }
    let size = b.get(0..4).map_or(0, |s| {
        usize::try_from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])).unwrap_or(0)
    });
    matches!(major, b"mif1" | b"mif2")
        && b[..size.min(b.len())]
            .get(16..)
            .is_some_and(|brands| brands.chunks_exact(4).any(heic))
}

/// HEIF (other than HEIC) and AVIF share MP4's box format; their brands are refused, not
/// taken for video.
fn is_heif_brand(brand: &[u8]) -> bool {
    matches!(
        brand,
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
    )
}

/// A photo without its metadata, and its EXIF orientation (1 when none).
pub struct Stripped {
    pub bytes: Vec<u8>,
    pub orientation: u8,
    /// The type stored: the uploaded one, or `image/jpeg` for a HEIC photo.
    pub content_type: &'static str,
    /// A thumbnail drawn while the photo was decoded anyway (HEIC); else [`thumbnail`]
    /// draws one from `bytes`.
    pub thumbnail: Option<Vec<u8>>,
}

/// The largest HEIC photo decoded, in pixels: a 48-megapixel phone photo fits; larger is
/// refused as a bad photo. Decoding one at the limit holds about 0.7 GB (the decoder's
/// planes and the RGBA picture at once), so a node decodes one HEIC photo at a time
/// (`attachments::HEIC_DECODES`).
pub const HEIC_MAX_PIXELS: u64 = 64_000_000;

/// The JPEG quality a HEIC photo is stored at.
const HEIC_JPEG_QUALITY: u8 = 90;

/// Drops location, camera and text metadata from a photo; None when it is malformed.
pub fn strip(content_type: &str, b: &[u8]) -> Option<Stripped> {
    let upright = |bytes, content_type| Stripped {
        bytes,
        orientation: 1,
        content_type,
        thumbnail: None,
    };
    match content_type {
        "image/jpeg" => strip_jpeg(b),
        "image/png" => strip_png(b).map(|bytes| upright(bytes, "image/png")),
        "image/webp" => strip_webp(b).map(|bytes| upright(bytes, "image/webp")),
        "image/heic" => heic_to_jpeg(b).map(|(bytes, thumbnail)| Stripped {
            thumbnail,
            ..upright(bytes, "image/jpeg")
        }),
        _ => None,
    }
}

/// The most grid tiles a HEIC photo may have (a 48-megapixel iPhone photo has 192).
const HEIC_MAX_TILES: usize = 256;

/// Whether the work a HEIC file asks for is bounded before any of it is done: its primary
/// image is one coded picture (`hvc1`), or a `grid` (directly, or through one `iden`) of at
/// most [`HEIC_MAX_TILES`] distinct coded tiles; every coded picture in the file states its
/// size (`ispe`), and together they hold at most twice [`HEIC_MAX_PIXELS`]. A small file
/// cannot then make the decoder assemble the same tile thousands of times, nest derived
/// images, or decode pictures it never shows. (A coded picture may still be larger than its
/// `ispe` says, up to the decoder's own per-picture limit of [`HEIC_MAX_PIXELS`].)
fn heic_work_is_bounded(b: &[u8]) -> bool {
    use heifer::heifer_isobmff::HeifFile;
    let Ok(file) = HeifFile::parse(b) else {
        return false;
    };
    let kind = |id| file.item(id).map(|i| i.item_type.0);
    let mut primary = file.primary_id;
    if kind(primary).ok() == Some(*b"iden") {
        match file.referenced_items(primary, b"dimg") {
            [source] => primary = *source,
            _ => return false,
        }
    }
    let shape_ok = match kind(primary) {
        Ok(t) if t == *b"hvc1" => true,
        Ok(t) if t == *b"grid" => {
            let tiles = file.referenced_items(primary, b"dimg");
            let mut distinct = tiles.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            !tiles.is_empty()
                && tiles.len() <= HEIC_MAX_TILES
                && distinct.len() == tiles.len()
                && tiles.iter().all(|&t| kind(t).ok() == Some(*b"hvc1"))
        }
        _ => false,
    };
    let mut area = 0u64;
    for item in file.items.iter().filter(|i| i.item_type.0 == *b"hvc1") {
        match file.image_size(item.id) {
            Ok(Some((w, h))) => area = area.saturating_add(u64::from(w) * u64::from(h)),
            _ => return false,
        }
    }
    shape_ok && area <= 2 * HEIC_MAX_PIXELS
}

/// A HEIC photo as a JPEG of its pixels, and its thumbnail drawn from the same pixels (a
/// 48-megapixel JPEG is too large for [`thumbnail`] to decode again). Decoded on this thread
/// alone, once its work is known to be bounded ([`heic_work_is_bounded`]); in sRGB where its
/// colour profile allows (an iPhone's Display P3 does), else as coded; its rotation, mirror
/// and crop applied by the decoder, so the JPEG is upright and carries nothing but the
/// picture. None when it does not decode or asks too much.
fn heic_to_jpeg(b: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    if !heic_work_is_bounded(b) {
        return None;
    }
    let options = heifer::Options {
        max_threads: 1,
        max_pixels: HEIC_MAX_PIXELS,
    };
    let img = match heifer::decode_srgb_rgba8(b, &options) {
        Err(heifer::Error::Unsupported(_)) => heifer::decode_rgba8(b, &options),
        other => other,
    }
    .ok()?;
    let rgb = image::RgbImage::from_raw(img.width, img.height, img.into_rgb8())?;
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, HEIC_JPEG_QUALITY)
        .encode_image(&rgb)
        .ok()?;
    let thumb = thumbnail_of(&image::DynamicImage::ImageRgb8(rgb), 1);
    Some((out.into_inner(), thumb))
}

/// JPEG: every APP1 (EXIF, XMP), APP13 (IPTC) and COM segment before the image data is
/// dropped; a non-default orientation comes back as a minimal EXIF holding only it.
fn strip_jpeg(b: &[u8]) -> Option<Stripped> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut orientation = 1;
    let mut i = 2;
    loop {
        if i + 4 > b.len() || b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 || i + 2 + len > b.len() {
            return None;
        }
        let seg = &b[i..i + 2 + len];
        match marker {
            0xE1 => {
                if let Some(o) = exif_orientation(&seg[4..]) {
                    orientation = o;
                }
            }
            0xED | 0xFE => {}
            // start of scan: the rest is image data
            0xDA => {
                if orientation != 1 {
                    // after SOI, or after a JFIF APP0 where there is one
                    let mut at = 2;
                    if out.len() >= 6 && out[2..4] == [0xFF, 0xE0] {
                        at += 2 + usize::from(u16::from_be_bytes([out[4], out[5]]));
                    }
                    out.splice(at..at, orientation_app1(orientation));
                }
                out.extend_from_slice(&b[i..]);
                return Some(Stripped {
                    bytes: out,
                    orientation,
                    content_type: "image/jpeg",
                    thumbnail: None,
                });
            }
            _ => out.extend_from_slice(seg),
        }
        i += 2 + len;
    }
}

/// The orientation tag (0x0112) of IFD0 in an APP1 EXIF payload (`Exif\0\0` + TIFF).
fn exif_orientation(p: &[u8]) -> Option<u8> {
    let t = p.strip_prefix(b"Exif\0\0")?;
    let le = match t.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |i: usize| {
        t.get(i..i + 2).map(|x| {
            if le {
                u16::from_le_bytes([x[0], x[1]])
            } else {
                u16::from_be_bytes([x[0], x[1]])
            }
        })
    };
    let u32_at = |i: usize| {
        t.get(i..i + 4).map(|x| {
            let a = [x[0], x[1], x[2], x[3]];
            if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            }
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let n = usize::from(u16_at(ifd)?);
    (0..n.min(256)).find_map(|k| {
        let e = ifd + 2 + 12 * k;
        (u16_at(e)? == 0x0112)
            .then(|| u16_at(e + 8))
            .flatten()
            .and_then(|v| u8::try_from(v).ok())
            .filter(|v| (1..=8).contains(v))
    })
}

/// An APP1 segment with an EXIF block that holds the orientation and nothing else.
fn orientation_app1(o: u8) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD0 at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&[0, o, 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut seg = vec![0xFF, 0xE1];
    let len = u16::try_from(2 + 6 + tiff.len()).unwrap_or(u16::MAX);
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

/// PNG: the eXIf, tEXt, zTXt, iTXt and tIME chunks are dropped.
fn strip_png(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = b[..8].to_vec();
    let mut i = 8;
    while i < b.len() {
        let len = usize::try_from(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?)).ok()?;
        let end = i.checked_add(12)?.checked_add(len)?;
        let chunk = b.get(i..end)?;
        if !matches!(
            &chunk[4..8],
            b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"
        ) {
            out.extend_from_slice(chunk);
        }
        i = end;
    }
    Some(out)
}

/// WebP: the EXIF and XMP chunks are dropped and their flags cleared in VP8X.
fn strip_webp(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = b[..12].to_vec();
    let mut i = 12;
    while i < b.len() {
        let len =
            usize::try_from(u32::from_le_bytes(b.get(i + 4..i + 8)?.try_into().ok()?)).ok()?;
        let end = (i + 8).checked_add(len + (len & 1))?.min(b.len());
        let chunk = b.get(i..end)?;
        match &chunk[..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" if chunk.len() > 8 => {
                let mut c = chunk.to_vec();
                c[8] &= !(0x08 | 0x04); // EXIF, XMP present
                out.extend_from_slice(&c);
            }
            _ => out.extend_from_slice(chunk),
        }
        i = end;
    }
    let riff = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Some(out)
}

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;

/// A JPEG thumbnail of a photo, turned as its orientation says; None when it does not decode.
pub fn thumbnail(b: &[u8], orientation: u8) -> Option<Vec<u8>> {
    // A small file can claim a huge picture: decoding stops past 128 MiB of pixels (no
    // thumbnail then; the photo is kept).
    let mut reader = image::ImageReader::new(std::io::Cursor::new(b))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits);
    thumbnail_of(&reader.decode().ok()?, orientation)
}

/// A JPEG thumbnail of a decoded picture, at most [`THUMB_SIDE`] a side, turned as its
/// orientation says.
fn thumbnail_of(img: &image::DynamicImage, orientation: u8) -> Option<Vec<u8>> {
    let img = if img.width() > THUMB_SIDE || img.height() > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img.clone()
    };
    let img = match orientation {
        2 => img.fliph(),
        3 => img.rotate180(),
        4 => img.flipv(),
        5 => img.rotate90().fliph(),
        6 => img.rotate90(),
        7 => img.rotate270().fliph(),
        8 => img.rotate270(),
        _ => img,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.to_rgb8()
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_gps() -> Vec<u8> {
        let img = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 30, 30]));
        let mut plain = std::io::Cursor::new(Vec::new());
        img.write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
        let plain = plain.into_inner();
        let mut exif = orientation_app1(6);
        exif.extend_from_slice(b"\xFF\xE1\x00\x0dGPS-31.2304");
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&exif);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn types_come_from_the_bytes() {
        let cases: [(&[u8], Option<&str>); 10] = [
            (b"\xFF\xD8\xFF\xE0rest", Some("image/jpeg")),
            (b"\x89PNG\r\n\x1a\n....", Some("image/png")),
            (b"RIFF\0\0\0\0WEBPVP8 ", Some("image/webp")),
            (b"RIFF\0\0\0\0WAVEfmt ", Some("audio/wav")),
            (b"#!AMR\n", Some("audio/amr")),
            (b"ID3\x04\0\0\0\0", Some("audio/mpeg")),
            (b"\0\0\0\x18ftypisom\0\0", Some("video/mp4")),
            (b"\0\0\0\x18ftypheic\0\0", Some("image/heic")),
            (b"%PDF-1.7\n", Some("application/pdf")),
            (b"MZ\x90\0\x03\0\0\0\x04\0", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes).map(|s| s.content_type), want, "{bytes:?}");
        }
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None);
    }

    #[test]
    fn a_jpeg_loses_its_exif_but_keeps_its_orientation_and_decodes() {
        let raw = jpeg_with_gps();
        let s = strip("image/jpeg", &raw).unwrap();
        assert_eq!(s.orientation, 6);
        assert!(!s.bytes.windows(3).any(|w| w == b"GPS"));
        let at = s.bytes.windows(6).position(|w| w == b"Exif\0\0").unwrap();
        assert_eq!(exif_orientation(&s.bytes[at..]), Some(6));
        let thumb = thumbnail(&s.bytes, s.orientation).unwrap();
        assert_eq!(sniff(&thumb).unwrap().content_type, "image/jpeg");
    }

    #[test]
    fn png_text_and_exif_chunks_are_dropped() {
        let img = image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let png = png.into_inner();
        let mut with = png[..33].to_vec(); // signature + IHDR
        let body = b"eXIfGPS!";
        with.extend_from_slice(&4u32.to_be_bytes());
        with.extend_from_slice(body);
        with.extend_from_slice(&[0, 0, 0, 0]);
        with.extend_from_slice(&png[33..]);
        let out = strip("image/png", &with).unwrap();
        assert_eq!(out.bytes, png);
        assert!(image::load_from_memory(&out.bytes).is_ok());
    }

    /// A phone's HEIC: a 64×48 picture with an EXIF block that names a place.
    pub(crate) fn heic_with_place() -> Vec<u8> {
        let rgb: Vec<u8> = (0..48u32)
            .flat_map(|y| (0..64u32).flat_map(move |x| [(x * 4) as u8, (y * 5) as u8, 90]))
            .collect();
        let img = heifer::Image {
            width: 64,
            height: 48,
            bit_depth: 8,
            has_alpha: false,
            data: rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255].map(u16::from))
                .collect(),
        };
        let metadata = heifer::Metadata {
            exif: Some(b"MM\0\x2a\0\0\0\x08\0\0GPS-39.9042N-116.4074E".to_vec()),
            ..Default::default()
        };
        heifer::encode_with_metadata(&img, &metadata, &Default::default()).unwrap()
    }

    #[test]
    fn heic_is_a_photo_by_its_brands_and_other_heif_is_refused() {
        let ftyp = |major: &[u8], compatible: &[&[u8]]| {
            let mut b = Vec::new();
            b.extend_from_slice(&(16 + 4 * compatible.len() as u32).to_be_bytes());
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0, 0, 0, 0]);
            for c in compatible {
                b.extend_from_slice(c);
            }
            b.extend_from_slice(b"\0\0\0\x08meta");
            b
        };
        let heic = Some("image/heic");
        for (bytes, want) in [
            (ftyp(b"heic", &[b"mif1", b"heic"]), heic),
            (ftyp(b"heix", &[]), heic),
            (ftyp(b"mif1", &[b"mif1", b"heic"]), heic),
            (ftyp(b"mif1", &[b"mif1", b"avif"]), None),
            (ftyp(b"avif", &[b"mif1"]), None),
            (ftyp(b"hevc", &[b"msf1"]), None),
            (ftyp(b"msf1", &[b"hevc"]), None),
            (ftyp(b"isom", &[b"mp41"]), Some("video/mp4")),
        ] {
            assert_eq!(sniff(&bytes).map(|s| s.content_type), want, "{bytes:?}");
        }
        // A compatible brand past the box's end is not the file's.
        let mut short = ftyp(b"mif1", &[]);
        short.extend_from_slice(b"heic");
        assert_eq!(sniff(&short).map(|s| s.content_type), None);
        assert_eq!(
            sniff(&heic_with_place()).unwrap().content_type,
            "image/heic"
        );
    }

    #[test]
    fn a_heic_photo_is_stored_as_an_upright_jpeg_without_its_exif() {
        let raw = heic_with_place();
        assert!(raw.windows(11).any(|w| w == b"GPS-39.9042"));
        let s = strip("image/heic", &raw).unwrap();
        assert_eq!((s.content_type, s.orientation), ("image/jpeg", 1));
        assert_eq!(sniff(&s.bytes).unwrap().content_type, "image/jpeg");
        assert!(!s.bytes.windows(3).any(|w| w == b"GPS"));
        assert!(!s.bytes.windows(4).any(|w| w == b"Exif"));
        let img = image::load_from_memory(&s.bytes).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (64, 48));
        // The picture survives the two codecs: a pixel near the corner keeps its colour.
        let p = img.get_pixel(60, 40);
        let want = [240u8, 200, 90];
        for (got, want) in p.0.iter().zip(want) {
            assert!(got.abs_diff(want) <= 24, "{p:?} against {want:?}");
        }
        assert!(thumbnail(&s.bytes, s.orientation).is_some());
        // Cut short, or a different box inside, it is a bad photo, not a panic.
        for cut in [raw.len() / 2, 40, 12] {
            assert!(strip("image/heic", &raw[..cut]).is_none(), "{cut}");
        }
        let mut bent = raw.clone();
        let mid = bent.len() - 40;
        for b in &mut bent[mid..mid + 20] {
            *b ^= 0x5a;
        }
        let _ = strip("image/heic", &bent);
    }
}
