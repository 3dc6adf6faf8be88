/** DI tokens of the media app. */
export const MEDIA_LOGGER = Symbol('MEDIA_LOGGER');
/** The Redis ClientProxy the media app emits events to signalling with. */
export const MEDIA_EVENTS_CLIENT = Symbol('MEDIA_EVENTS_CLIENT');
/** The process-wide 20 ms FrameClock shared by every leg's tone/DTMF helpers. */
export const MEDIA_FRAME_CLOCK = Symbol('MEDIA_FRAME_CLOCK');
/** Factory of WhatsApp legs (replaceable in tests). */
export const WA_LEG_FACTORY = Symbol('WA_LEG_FACTORY');
/** The process-wide RtpPortAllocator over media.rtpPortMin..rtpPortMax (PBX legs). */
export const RTP_PORT_ALLOCATOR = Symbol('RTP_PORT_ALLOCATOR');
/** RtpAddresses: where PBX legs bind and what their SDP advertises. */
export const RTP_ADDRESSES = Symbol('RTP_ADDRESSES');
