// Compile-check stubs: the minimal UnityEngine surface Runtime/Unity uses, with the same
// signatures as Unity 2021 LTS. NOT a Unity implementation; only lets mcs type-check the glue
// (run_tests.sh). Unity ignores this folder (name ends in '~').
using System;

namespace UnityEngine
{
    public class Object
    {
        public string name;
        public static T FindObjectOfType<T>() where T : Object { return null; }
    }

    public class Component : Object
    {
        public Transform transform;
        public T[] GetComponentsInChildren<T>(bool includeInactive) { return new T[0]; }
    }

    public class Behaviour : Component
    {
        public bool enabled;
        public bool isActiveAndEnabled;
    }

    public class MonoBehaviour : Behaviour { }

    public class Transform : Component
    {
        public Vector3 position;
        public Quaternion rotation;
        public Vector3 TransformPoint(Vector3 p) { return p; }
        public Vector3 InverseTransformPoint(Vector3 p) { return p; }
    }

    public class Renderer : Component
    {
        public bool enabled;
        public Material[] sharedMaterials;
        public void GetPropertyBlock(MaterialPropertyBlock block) { }
        public void SetPropertyBlock(MaterialPropertyBlock block) { }
    }

    public class Material : Object { }

    public class TextAsset : Object
    {
        public byte[] bytes { get { return new byte[0]; } }
    }

    public static class Application
    {
        public static string streamingAssetsPath { get { return ""; } }
    }

    public class TextMesh : Component
    {
        public string text;
    }

    public sealed class MaterialPropertyBlock
    {
        public void SetColor(int nameId, Color value) { }
    }

    public static class Shader
    {
        public static int PropertyToID(string name) { return 0; }
    }

    public static class Time
    {
        public static float time;
        public static float unscaledTime;
    }

    public static class Mathf
    {
        public static float Max(float a, float b) { return a > b ? a : b; }
    }

    public static class Debug
    {
        public static void LogWarning(object message, Object context) { }
        public static void LogError(object message, Object context) { }
    }

    public struct Color
    {
        public float r, g, b, a;
        public Color(float r, float g, float b) { this.r = r; this.g = g; this.b = b; a = 1f; }
        public Color(float r, float g, float b, float a) { this.r = r; this.g = g; this.b = b; this.a = a; }
    }

    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vector3 operator +(Vector3 a, Vector3 b) { return new Vector3(a.x + b.x, a.y + b.y, a.z + b.z); }
        public static Vector3 operator -(Vector3 a, Vector3 b) { return new Vector3(a.x - b.x, a.y - b.y, a.z - b.z); }
    }

    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static Quaternion Inverse(Quaternion q) { return new Quaternion(-q.x, -q.y, -q.z, q.w); }
        public static Quaternion operator *(Quaternion a, Quaternion b) { return a; }
    }

    [AttributeUsage(AttributeTargets.Field)] public sealed class SerializeField : Attribute { }
    [AttributeUsage(AttributeTargets.Field)] public sealed class HeaderAttribute : Attribute { public HeaderAttribute(string h) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string t) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class TextAreaAttribute : Attribute { public TextAreaAttribute(int min, int max) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class RangeAttribute : Attribute { public RangeAttribute(float min, float max) { } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class DisallowMultipleComponent : Attribute { }
}

namespace UnityEngine.Events
{
    public abstract class UnityEventBase { }

    public class UnityEvent<T0> : UnityEventBase
    {
        public void Invoke(T0 arg0) { }
    }
}
