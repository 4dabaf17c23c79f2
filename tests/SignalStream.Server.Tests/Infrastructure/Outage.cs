using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// A storage outage that tests switch on and off. <see cref="Decorate{TService}"/> wraps whatever
/// the server registered for a storage interface, so every call fails the way a dead database does
/// (a <see cref="SqliteException"/>, SQLITE_IOERR) while <see cref="IsDown"/>, and passes through otherwise.
/// </summary>
public sealed class Outage
{
    public volatile bool IsDown;

    /// <summary>Replaces the last registration of <typeparamref name="TService"/> with one that fails during the outage.</summary>
    public void Decorate<TService>(IServiceCollection services) where TService : class
    {
        var original = services.Last(d => d.ServiceType == typeof(TService));
        services.Remove(original);
        services.Add(ServiceDescriptor.Describe(typeof(TService), sp =>
        {
            var inner = (TService)(original.ImplementationInstance
                ?? original.ImplementationFactory?.Invoke(sp)
                ?? ActivatorUtilities.CreateInstance(sp, original.ImplementationType!));
            var proxy = DispatchProxy.Create<TService, FailingProxy>();
            ((FailingProxy)(object)proxy).Init(inner, this);
            return proxy;
        }, original.Lifetime));
    }

    public class FailingProxy : DispatchProxy
    {
        private object _inner = null!;
        private Outage _outage = null!;

        internal void Init(object inner, Outage outage)
        {
            _inner = inner;
            _outage = outage;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (_outage.IsDown) throw new SqliteException("disk I/O error (injected outage)", 10);
            try
            {
                return targetMethod!.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }
}
