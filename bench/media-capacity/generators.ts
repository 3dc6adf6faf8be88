/**
 * Both load generators in one process (the default, `--generators one`): on the generators' one core, two
 * processes take turns by the kernel's time slices, and a packet for one waits while the other runs (at 400
 * passthrough calls that alone put the p99 of rtpengine, pinned, at 6-11 ms; unpinned 3-5 ms). In one event
 * loop a packet waits only for the packets and timers before it.
 */
import './wa-generator';
import './pbx-generator';
