using System.Net;
using System.Net.Sockets;

namespace Orchflow.Infrastructure.Network;

/// <summary>A range of addresses that is not the public internet, what it is, and whether it is never called whatever an operator allows.</summary>
public sealed record SpecialRange(IPNetwork Network, string Name, bool AlwaysDenied = false)
{
    /// <summary>For an IPv4 range reached through an IPv6 address that carries it: the IPv6 form (NAT64, 6to4…).</summary>
    public SpecialRange? Carrier { get; init; }

    /// <summary>"private-use (10.0.0.0/8)", "loopback (127.0.0.0/8), carried in NAT64 (64:ff9b::/96)".</summary>
    public override string ToString() => Carrier is null ? $"{Name} ({Network})" : $"{Name} ({Network}), carried in {Carrier}";
}

/// <summary>
/// Which addresses are not public services, after IANA's special-purpose address registries: loopback, private-use,
/// link-local, shared (CGNAT), benchmarking, documentation, multicast, reserved, unique-local… An IPv6 address that
/// carries an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4) is judged by the address it carries too, since that
/// is where a connection to it goes. Link-local ranges and the clouds' metadata services are marked always denied.
/// </summary>
public static class SpecialAddresses
{
    static readonly SpecialRange[] V4 =
    [
        new(IPNetwork.Parse("0.0.0.0/8"), "this network"),
        new(IPNetwork.Parse("10.0.0.0/8"), "private-use"),
        new(IPNetwork.Parse("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
        new(IPNetwork.Parse("100.100.100.200/32"), "cloud metadata service (Alibaba Cloud)", AlwaysDenied: true),
        new(IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        // 169.254.169.254 (AWS, Azure, Google Cloud, Oracle…) and 169.254.170.2 (ECS task metadata) are in here.
        new(IPNetwork.Parse("169.254.0.0/16"), "link-local, where cloud metadata services answer", AlwaysDenied: true),
        new(IPNetwork.Parse("168.63.129.16/32"), "cloud metadata service (Azure wire server)", AlwaysDenied: true),
        new(IPNetwork.Parse("172.16.0.0/12"), "private-use"),
        new(IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        new(IPNetwork.Parse("192.0.2.0/24"), "documentation (TEST-NET-1)"),
        new(IPNetwork.Parse("192.88.99.0/24"), "6to4 relay anycast (deprecated)"),
        new(IPNetwork.Parse("192.168.0.0/16"), "private-use"),
        new(IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        new(IPNetwork.Parse("198.51.100.0/24"), "documentation (TEST-NET-2)"),
        new(IPNetwork.Parse("203.0.113.0/24"), "documentation (TEST-NET-3)"),
        new(IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        new(IPNetwork.Parse("240.0.0.0/4"), "reserved (and limited broadcast)"),
    ];

    static readonly SpecialRange[] V6 =
    [
        new(IPNetwork.Parse("::/128"), "unspecified"),
        new(IPNetwork.Parse("::1/128"), "loopback"),
        new(IPNetwork.Parse("64:ff9b:1::/48"), "local-use NAT64"),
        new(IPNetwork.Parse("100::/64"), "discard-only"),
        new(IPNetwork.Parse("2001::/23"), "IETF protocol assignments"),
        new(IPNetwork.Parse("2001::/32"), "Teredo tunnelling"),
        new(IPNetwork.Parse("2001:2::/48"), "benchmarking"),
        new(IPNetwork.Parse("2001:db8::/32"), "documentation"),
        new(IPNetwork.Parse("3fff::/20"), "documentation"),
        new(IPNetwork.Parse("fc00::/7"), "unique-local"),
        new(IPNetwork.Parse("fd00:ec2::254/128"), "cloud metadata service (AWS)", AlwaysDenied: true),
        new(IPNetwork.Parse("fe80::/10"), "link-local", AlwaysDenied: true),
        new(IPNetwork.Parse("fec0::/10"), "site-local (deprecated)"),
        new(IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");
    static readonly IPNetwork Mapped = IPNetwork.Parse("::ffff:0:0/96");
    static readonly IPNetwork Compatible = IPNetwork.Parse("::/96");
    static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <summary>The special range <paramref name="address"/> is in; null for a public address.</summary>
    public static SpecialRange? Of(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return MostSpecific(V4, address);
        }

        if (Carried(address) is { } carried)
        {
            if (Of(carried.Address) is { } inner)
            {
                return inner with { Carrier = carried.Carrier };
            }

            // A public IPv4 address behind NAT64 or 6to4 is that public service; the older forms never are.
            if (carried.Carrier.Network == Mapped || carried.Carrier.Network == Nat64 || carried.Carrier.Network == SixToFour)
            {
                return null;
            }

            return carried.Carrier;
        }

        return MostSpecific(V6, address) ?? (GlobalUnicast.Contains(address) ? null : Reserved(address));
    }

    /// <summary>Whether the address is a public one: none of the special ranges holds it.</summary>
    public static bool IsPublic(IPAddress address) => Of(address) is null;

    /// <summary>
    /// The IPv4 address an IPv6 one carries, and how: IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, deprecated,
    /// short of :: and ::1), NAT64 (64:ff9b::/96) or 6to4 (2002::/16).
    /// </summary>
    public static (IPAddress Address, SpecialRange Carrier)? Carried(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        var b = address.GetAddressBytes();
        // IPNetwork.Contains does not match IPv4-mapped addresses against an IPv6 network: asked directly.
        if (address.IsIPv4MappedToIPv6)
        {
            return (new IPAddress(b.AsSpan(12, 4)), new SpecialRange(Mapped, "IPv4-mapped IPv6"));
        }

        if (Nat64.Contains(address))
        {
            return (new IPAddress(b.AsSpan(12, 4)), new SpecialRange(Nat64, "NAT64"));
        }

        if (SixToFour.Contains(address))
        {
            return (new IPAddress(b.AsSpan(2, 4)), new SpecialRange(SixToFour, "6to4"));
        }

        if (Compatible.Contains(address) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback))
        {
            return (new IPAddress(b.AsSpan(12, 4)), new SpecialRange(Compatible, "IPv4-compatible IPv6 (deprecated)"));
        }

        return null;
    }

    /// <summary>The eighth of the IPv6 space an address outside 2000::/3 is in: none of them is assigned to public services.</summary>
    static SpecialRange Reserved(IPAddress address)
    {
        var b = new byte[16];
        b[0] = (byte)(address.GetAddressBytes()[0] & 0xE0);
        return new SpecialRange(new IPNetwork(new IPAddress(b), 3), "reserved, outside global unicast 2000::/3");
    }

    /// <summary>An always-denied range first, whatever else holds the address; otherwise the longest prefix.</summary>
    static SpecialRange? MostSpecific(SpecialRange[] ranges, IPAddress address)
    {
        var holding = ranges.Where(r => r.Network.Contains(address)).ToList();
        return holding.FirstOrDefault(r => r.AlwaysDenied) ?? holding.MaxBy(r => r.Network.PrefixLength);
    }
}
