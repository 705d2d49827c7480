// Stands in for the `debug` package inside our bundle: require-in-the-middle's only use of it
// is trace logging behind DEBUG=require-in-the-middle, which a user of healthspan never needs;
// loading the real one costs tty, util and color detection at every start.
'use strict';
module.exports = function createDebug() {
  const noop = () => {};
  noop.enabled = false;
  return noop;
};
