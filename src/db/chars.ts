// Character codes (String#charCodeAt values) the SQL lexer and the query summary compare
// against, named so that the logic reads as SQL rather than as hex. Plain numeric constants:
// they compile to the same comparisons as the literals they replace.

export const LF = 0x0a;
export const CR = 0x0d;
/** Space; `c <= SPACE` also takes in the control characters below it. */
export const SPACE = 0x20;
export const DOUBLE_QUOTE = 0x22;
export const HASH = 0x23;
export const DOLLAR = 0x24;
export const AMPERSAND = 0x26;
export const SINGLE_QUOTE = 0x27;
export const LPAREN = 0x28;
export const RPAREN = 0x29;
export const STAR = 0x2a;
export const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const DOT = 0x2e;
export const SLASH = 0x2f;
export const DIGIT_0 = 0x30;
export const DIGIT_1 = 0x31;
export const DIGIT_7 = 0x37;
export const DIGIT_9 = 0x39;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const QUESTION = 0x3f;
export const UPPER_A = 0x41;
export const UPPER_Z = 0x5a;
export const BACKSLASH = 0x5c;
export const RBRACKET = 0x5d;
export const UNDERSCORE = 0x5f;
export const BACKTICK = 0x60;
export const LOWER_A = 0x61;
export const LOWER_B = 0x62;
export const LOWER_E = 0x65;
export const LOWER_N = 0x6e;
export const LOWER_O = 0x6f;
export const LOWER_U = 0x75;
export const LOWER_X = 0x78;
export const LOWER_Z = 0x7a;
/** Code units below this are ASCII (the lexer's class table covers them). */
export const ASCII_END = 0x80;
/**
 * The bit that tells ASCII letters' cases apart: `c | CASE_BIT` is the lower-case letter for
 * both cases (and maps `_` to 0x7f, which is no letter).
 */
export const CASE_BIT = 0x20;
