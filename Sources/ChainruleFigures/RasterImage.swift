import CCairo

/// A PNG read back into memory, for checking what a figure shows (which
/// colours it holds) without an image library.
struct RasterImage: Sendable {
    let width: Int
    let height: Int
    /// Row-major colours, alpha ignored (figures are opaque).
    let pixels: [RGB]

    /// Reads a PNG file; nil if Cairo cannot read it.
    init?(pngFile path: String) {
        guard let surface = cairo_image_surface_create_from_png(path) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else { return nil }
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface)), height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface) else { return nil }
        var pixels: [RGB] = []
        pixels.reserveCapacity(width * height)
        for y in 0..<height {
            let row = data.advanced(by: y * stride)
            for x in 0..<width {
                // ARGB32 in native (little-endian) order: B, G, R, A.
                let p = row.advanced(by: x * 4)
                pixels.append(RGB(Double(p[2]) / 255, Double(p[1]) / 255, Double(p[0]) / 255))
            }
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// How many pixels lie within `tolerance` (per channel) of `color`.
    func count(near color: RGB, tolerance: Double = 0.08) -> Int {
        pixels.reduce(0) { total, p in
            total + (abs(p.red - color.red) <= tolerance && abs(p.green - color.green) <= tolerance && abs(p.blue - color.blue) <= tolerance ? 1 : 0)
        }
    }
}
