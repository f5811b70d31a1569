package chat.bench;

import chat.protocol.Author;
import chat.protocol.FrameCodec;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The load generator's frame scanner on frames as the server's own codec writes them. */
class FrameScanTest {

    @Test
    void readsTheOffsetAndTheSendTimeOfAChatMessage() {
        String frame = FrameCodec.chatMessage(42, "123456789 bench message 7 from sender 3");
        assertEquals(FrameScan.Type.CHAT, FrameScan.type(frame));
        assertEquals(42, FrameScan.offset(frame));
        assertEquals(123456789L, FrameScan.leadingNumberOfText(frame));
    }

    @Test
    void aQuotedOffsetInsideATextIsNotTheOffset() {
        String frame = FrameCodec.chatMessage(7, "say \"offset\":99 and \"clientOffset\":\"x\"");
        assertEquals(7, FrameScan.offset(frame));
        assertEquals(-1, FrameScan.leadingNumberOfText(frame));
    }

    @Test
    void readsAnAck() {
        String frame = FrameCodec.ack("run-3-17", 1234567890123L);
        assertEquals(FrameScan.Type.ACK, FrameScan.type(frame));
        assertEquals("run-3-17", FrameScan.clientOffset(frame));
        assertEquals(1234567890123L, FrameScan.offset(frame));
    }

    @Test
    void tellsSyncedAndErrorFramesApart() {
        assertEquals(FrameScan.Type.SYNCED, FrameScan.type(FrameCodec.synced(5, "e", false)));
        assertEquals(FrameScan.Type.PRESENCE, FrameScan.type(FrameCodec.presenceCount("ops", 3, null)));
        String error = FrameCodec.error(chat.protocol.ErrorCode.OVERLOADED, "later", "k-1");
        assertEquals(FrameScan.Type.ERROR, FrameScan.type(error));
        assertEquals("k-1", FrameScan.clientOffset(error));
        assertNull(FrameScan.clientOffset(FrameCodec.synced(5, "e", true)));
        assertEquals(FrameScan.Type.OTHER, FrameScan.type("[]"));
    }
}
