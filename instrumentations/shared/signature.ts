/**
 * Gives `wrapper` the `name` and `length` of `original`, so that code reading them (routers
 * that dispatch on `fn.length`, apps that log `fn.name`) sees what it would see without us.
 * Both properties are configurable on every function; a failure is ignored.
 */
// biome-ignore lint/complexity/noBannedTypes: any function's name and length, whatever its signature.
export function copySignature(wrapper: Function, original: Function): void {
  try {
    if (wrapper.name !== original.name) Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    if (wrapper.length !== original.length) Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  } catch {
    // A frozen function keeps its own name and length.
  }
}
