using System.Collections.Immutable;
using System.Reflection;

namespace Shoal.Actors.Tests.Protocol;

/// <summary>Builds a fully populated instance of any protocol type by reflection: every field set, no defaults left.</summary>
internal static class SampleValues
{
    private static readonly DateTimeOffset s_when = new(2026, 11, 24, 20, 15, 30, 123, TimeSpan.Zero);

    public static object Create(Type type, int depth = 0)
    {
        if (depth > 8)
        {
            throw new InvalidOperationException($"sample of {type} nests too deep");
        }
        Type? nullable = Nullable.GetUnderlyingType(type);
        if (nullable != null)
        {
            return Create(nullable, depth + 1);
        }
        if (type == typeof(string))
        {
            return "sample-" + depth;
        }
        if (type == typeof(int))
        {
            return 3 + depth;
        }
        if (type == typeof(uint))
        {
            return 7u + (uint)depth;
        }
        if (type == typeof(long))
        {
            return (1L << 36) + depth;
        }
        if (type == typeof(ulong))
        {
            return ulong.MaxValue - (ulong)depth;
        }
        if (type == typeof(bool))
        {
            return true;
        }
        if (type == typeof(double))
        {
            return 0.25;
        }
        if (type == typeof(Guid))
        {
            return new Guid("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
        }
        if (type == typeof(DateTimeOffset))
        {
            return s_when;
        }
        if (type == typeof(TimeSpan))
        {
            return TimeSpan.FromMilliseconds(1500);
        }
        if (type.IsEnum)
        {
            Array values = Enum.GetValues(type);
            return values.GetValue(values.Length - 1)!;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>))
        {
            Type element = type.GetGenericArguments()[0];
            Array items = Array.CreateInstance(element, 2);
            items.SetValue(Create(element, depth + 1), 0);
            items.SetValue(Create(element, depth + 1), 1);
            MethodInfo create = typeof(ImmutableArray).GetMethods()
                .Single(m => m.Name == nameof(ImmutableArray.Create) && m.GetParameters() is [{ ParameterType.IsArray: true }])
                .MakeGenericMethod(element);
            return create.Invoke(null, [items])!;
        }
        ConstructorInfo ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"no public constructor on {type}");
        object?[] args = ctor.GetParameters().Select(p => Create(p.ParameterType, depth + 1)).ToArray();
        return ctor.Invoke(args);
    }
}
