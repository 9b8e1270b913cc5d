#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
#include <stdio.h>

/* `value` with `places` decimals, as printf's "%.*f" writes it (C locale
   digits, round-half-even on the exact binary value); returns the length
   snprintf would have written. Called directly, so Swift builds no va_list
   (String(format:) costs some 8,000 instructions a number that way). */
static inline int chainrule_format_fixed(char *buffer, int size, int places, double value) {
    return snprintf(buffer, (size_t)size, "%.*f", places, value);
}
