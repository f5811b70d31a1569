package chat.web;

import chat.config.Verdict;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connections in all and per client address (an IPv6 address by its /64): refusals name the limit and leave no
 * count behind. */
class ConnectionLimitsTest {

    @Test
    void anAddressGetsItsShareAndTheRestAreRefusedWithTheReason() {
        ConnectionLimits limits = new ConnectionLimits(100, 2);
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.1"));
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.1"));
        assertEquals(Verdict.refused("Too many connections from 10.0.0.1 (at most 2)"), limits.admit("10.0.0.1"));
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.2"), "another address is not affected");
        assertEquals(3, limits.open());

        limits.release("10.0.0.1");
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.1"), "a closed connection frees its place");
    }

    @Test
    void anIpv6HostIsCountedByItsSlash64WhateverAddressOfItItUses() {
        assertEquals("2001:db8:1:2::/64", ConnectionLimits.limitKey("2001:db8:1:2:a:b:c:d"));
        assertEquals("2001:db8:1:2::/64", ConnectionLimits.limitKey("2001:0db8:0001:0002:0000:0000:0000:0001"));
        assertEquals("2001:db8:1:3::/64", ConnectionLimits.limitKey("2001:db8:1:3::1"));
        assertEquals("0:0:0:0::/64", ConnectionLimits.limitKey("0:0:0:0:0:0:0:1"));
        assertEquals("192.0.2.7", ConnectionLimits.limitKey("::ffff:192.0.2.7"));
        assertEquals("192.0.2.7", ConnectionLimits.limitKey("192.0.2.7"));

        ConnectionLimits limits = new ConnectionLimits(100, 1);
        assertEquals(Verdict.ADMITTED, limits.admit(ConnectionLimits.limitKey("2001:db8:1:2::1")));
        assertEquals(Verdict.refused("Too many connections from 2001:db8:1:2::/64 (at most 1)"),
                limits.admit(ConnectionLimits.limitKey("2001:db8:1:2::2")));
        assertEquals(Verdict.ADMITTED, limits.admit(ConnectionLimits.limitKey("2001:db8:1:3::1")),
                "another /64 is another client");
    }

    @Test
    void theServerWideLimitRefusesEveryoneWhenFull() {
        ConnectionLimits limits = new ConnectionLimits(2, 10);
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.1"));
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.2"));
        assertTrue(((Verdict.Refused) limits.admit("10.0.0.3")).reason().startsWith("The chat is full (2 connections)"));
        assertEquals(2, limits.open());
        limits.release("10.0.0.2");
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.3"));
    }

    @Test
    void refusalsLeaveNoCountBehind() {
        ConnectionLimits limits = new ConnectionLimits(1, 1);
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.1"));
        for (int i = 0; i < 5; i++) {
            limits.admit("10.0.0.1");
            limits.admit("10.0.0.2");
        }
        limits.release("10.0.0.1");
        assertEquals(0, limits.open());
        assertEquals(Verdict.ADMITTED, limits.admit("10.0.0.2"));
    }
}
