export * from './audio/tone';
export * from './audio/opus';
export * from './webrtc/user-media.types';
