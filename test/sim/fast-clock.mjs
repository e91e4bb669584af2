// Preloaded into the action's process (`node --import`) when a test runs it on the simulator's
// virtual clock: `Date` reads the virtual time and timers wait virtual milliseconds, so a three-hour
// upgrade, one-hour sessions and five-minute OIDC tokens take seconds of real time, and the action,
// the AWS SDK (credential expiry, signing dates) and the simulator agree on what time it is.
// Test harness only: the action's code has no notion of it.
import { writeFileSync } from 'node:fs';

const speed = Number(process.env.SIM_CLOCK_SPEED);
const realStart = Number(process.env.SIM_CLOCK_REAL_START);
const virtualStart = Number(process.env.SIM_CLOCK_VIRTUAL_START);

if (speed > 0 && Number.isFinite(realStart) && Number.isFinite(virtualStart)) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  const virtualAt = (real) => Math.floor(virtualStart + (real - realStart) * speed);
  const virtualNow = () => virtualAt(realNow());
  class VirtualDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(virtualNow());
      else super(...args);
    }
    static now() {
      return virtualNow();
    }
  }
  globalThis.Date = VirtualDate;
  const scale = (ms) => Math.max(0, Number(ms) || 0) / speed;
  const { setTimeout: realSetTimeout, setInterval: realSetInterval } = globalThis;

  // The clock's own error, recorded when SIM_CLOCK_LATE_TIMERS names a file. Virtual time is a linear
  // function of real time, so a timer that fires late because the process could not run (the machine
  // did not schedule it, a garbage collection, a chunk being loaded) is late `speed` times as much in
  // virtual time: at 900×, 33 ms of a busy machine make a timer 30 s late, where in production it is
  // 33 ms late. Each timer that fires at least 1 real ms after it was due is recorded as
  // [requested ms, due, fired] (virtual ms; an interval's next tick is due its period after the tick
  // before it began, as in Node), so a test can tell what the action scheduled from what the clock
  // added. It cannot tell the machine from the action's own synchronous work: both are real time that
  // the clock multiplies.
  const lateFile = process.env.SIM_CLOCK_LATE_TIMERS;
  const late = [];
  const record = (ms, due, fired) => {
    if (fired - due >= 1) late.push([Number(ms) || 0, virtualAt(due), virtualAt(fired)]);
  };
  if (lateFile) process.on('exit', () => writeFileSync(lateFile, JSON.stringify(late)));

  globalThis.setTimeout = (fn, ms, ...args) => {
    if (!lateFile || typeof fn !== 'function') return realSetTimeout(fn, scale(ms), ...args);
    const due = realNow() + scale(ms);
    return realSetTimeout(
      function (...a) {
        record(ms, due, realNow());
        return fn.apply(this, a);
      },
      scale(ms),
      ...args,
    );
  };
  globalThis.setInterval = (fn, ms, ...args) => {
    if (!lateFile || typeof fn !== 'function') return realSetInterval(fn, scale(ms), ...args);
    let due = realNow() + scale(ms);
    return realSetInterval(
      function (...a) {
        const fired = realNow();
        record(ms, due, fired);
        due = fired + scale(ms);
        return fn.apply(this, a);
      },
      scale(ms),
      ...args,
    );
  };
}
