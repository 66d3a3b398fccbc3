// What the API imports from the media node.
export { type MediaConfig, MediaConfigError, loadMediaConfig } from './config.js';
export { CONTROL_PATH, ControlServer } from './control.js';
export { type LeaveReason, MediaError, MediaNode, type MediaNodeEvents, type MediaNodeOptions, type ParticipantStats } from './node.js';
export { type MediaNodeInfo, listMediaNodes, sweepMediaNodes } from './registry.js';
export { type RunningMediaNode, startMediaNode } from './start.js';
