using VideoEdge.Security;
using VideoEdge.Viewers;

namespace VideoEdge.Api;

/// <summary>The process-wide stream limits, how many streams run, and every refusal so far by reason.</summary>
public sealed record LimitsDto(int MaxClients, int MaxClientsPerIp, int Streams, RefusalsDto Refused)
{
    public static LimitsDto From(ViewerAdmission admission, Refusals refusals) => new(
        admission.MaxClients, admission.MaxClientsPerIp, admission.Active,
        new RefusalsDto(refusals[RefusalReason.TooManyClients], refusals[RefusalReason.TooManyFromAddress],
            refusals[RefusalReason.Unauthorized], refusals[RefusalReason.ForbiddenOrigin], refusals[RefusalReason.IngestToken]));
}

public sealed record RefusalsDto(long TooManyClients, long TooManyFromAddress, long Unauthorized, long ForbiddenOrigin, long IngestToken);
