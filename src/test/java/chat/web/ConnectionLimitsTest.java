package chat.web;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConnectionLimitsTest {

    @Test
    void anAddressGetsItsShareAndTheRestAreRefusedWithTheReason() {
        ConnectionLimits limits = new ConnectionLimits(100, 2);
        assertNull(limits.admit("10.0.0.1"));
        assertNull(limits.admit("10.0.0.1"));
        String refusal = limits.admit("10.0.0.1");
        assertEquals("Too many connections from 10.0.0.1 (at most 2)", refusal);
        assertNull(limits.admit("10.0.0.2"), "another address is not affected");
        assertEquals(3, limits.open());

        limits.release("10.0.0.1");
        assertNull(limits.admit("10.0.0.1"), "a closed connection frees its place");
    }

    @Test
    void theServerWideLimitRefusesEveryoneWhenFull() {
        ConnectionLimits limits = new ConnectionLimits(2, 10);
        assertNull(limits.admit("10.0.0.1"));
        assertNull(limits.admit("10.0.0.2"));
        assertTrue(limits.admit("10.0.0.3").startsWith("The chat is full (2 connections)"));
        assertEquals(2, limits.open());
        limits.release("10.0.0.2");
        assertNull(limits.admit("10.0.0.3"));
    }

    @Test
    void refusalsLeaveNoCountBehind() {
        ConnectionLimits limits = new ConnectionLimits(1, 1);
        assertNull(limits.admit("10.0.0.1"));
        for (int i = 0; i < 5; i++) {
            limits.admit("10.0.0.1");
            limits.admit("10.0.0.2");
        }
        limits.release("10.0.0.1");
        assertEquals(0, limits.open());
        assertNull(limits.admit("10.0.0.2"));
    }
}
